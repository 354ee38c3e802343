// RLE Lossless (DICOM PS3.5 Annex G): a 64-byte header of segment offsets, then one
// PackBits-coded segment per byte plane, most significant byte of each sample first.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/common/frame.hpp"

namespace turbodicom::codec::rle {

// Decodes one frame into `out` (desc.samples() * bits_allocated/8 bytes): colour-by-pixel,
// samples of bits_allocated/8 bytes (8, 16, 32 or 64 bits) in little-endian order.
void decode(const std::uint8_t* src, std::size_t size, const frame_desc& desc, std::uint8_t* out,
            std::size_t out_size);

// Encodes one frame from colour-by-pixel little-endian samples laid out as `decode` writes them.
// The result is the frame's fragment value, padded to even length.
std::vector<std::uint8_t> encode(const std::uint8_t* samples, std::size_t size, const frame_desc& desc);

}  // namespace turbodicom::codec::rle
