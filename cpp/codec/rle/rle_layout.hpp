// What the RLE decoder and encoder share: the header layout (PS3.5 G.5) and the frame size.
#pragma once
#include <cstdint>
#include <string>

#include "codec/common/codec_error.hpp"
#include "codec/common/frame.hpp"

namespace turbodicom::codec::rle {

constexpr std::uint32_t header_size = 64;  // segment count + 15 offsets, 32-bit little endian
constexpr std::uint32_t max_segments = 15;

// Bytes per sample; RLE frames here hold whole-byte samples of 8, 16, 32 or 64 bits.
inline unsigned sample_bytes(const frame_desc& desc) {
    switch (desc.bits_allocated) {
        case 8: return 1;
        case 16: return 2;
        case 32: return 4;
        case 64: return 8;
        default:
            fail(codec_errc::unsupported, 0,
                 "RLE with " + std::to_string(desc.bits_allocated) + " bits allocated (8, 16, 32 or 64 supported)");
    }
}

// The decoded size of a frame in bytes; raises too_large over max_frame_bytes.
std::uint64_t frame_bytes(const frame_desc& desc);

}  // namespace turbodicom::codec::rle
