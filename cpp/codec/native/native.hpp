// Native (uncompressed) pixel data, and the per-sample steps every decoded frame shares:
// bit unpacking, byte order, planar layout, and the unused-bit correction.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/common/frame.hpp"

namespace turbodicom::codec::native {

// The length in bits of one frame of native pixel data (bits_allocated 1 frames need not
// start on a byte boundary).
std::uint64_t frame_bits(const frame_desc& desc);

// Copies frame `index` of native pixel data `src` into `out` in pydicom's array layout:
// colour-by-pixel, samples of bits_allocated/8 bytes (one byte, 0 or 1, per pixel when
// bits_allocated is 1), little-endian. `big_endian` is the transfer syntax's byte order;
// `ow_swapped` marks 8-bit big endian data encoded as OW (bytes swapped pairwise across the
// whole value). No unused-bit correction: see correct_unused_bits.
void decode_frame(const std::uint8_t* src, std::size_t size, std::uint64_t index, const frame_desc& desc,
                  bool big_endian, bool ow_swapped, std::uint8_t* out, std::size_t out_size);

// Planar (colour-by-plane) to colour-by-pixel, `pixels` x `samples` samples of `sample_bytes`.
void planar_to_interleaved(const std::uint8_t* src, std::uint8_t* out, std::uint64_t pixels,
                           unsigned samples, unsigned sample_bytes);

// pydicom's correction of unused high bits: shift left by bits_allocated - bits_stored and
// back, arithmetically for signed data (sign extension), logically for unsigned (masking).
// `data` holds `count` little-endian samples of bits_allocated/8 bytes (8, 16, 32 or 64 bits).
void correct_unused_bits(std::uint8_t* data, std::uint64_t count, unsigned bits_allocated,
                         unsigned bits_stored, bool is_signed);

// Native YBR_FULL_422 (PS3.3 C.7.6.3.1.2): each pair of pixels is stored as Y1 Y2 Cb Cr, so a
// frame holds pixels x 2 samples. The length of one such frame in bytes (3 samples per pixel
// and an even number of pixels required).
std::uint64_t ybr_full_422_frame_bytes(const frame_desc& desc);

// Expands frame `index` of native YBR_FULL_422 data to YBR_FULL colour-by-pixel, as pydicom
// does: Y1 Y2 Cb Cr becomes Y1 Cb Cr Y2 Cb Cr. `out` takes pixels x 3 little-endian samples of
// bits_allocated/8 bytes; `big_endian` is the transfer syntax's byte order. Raises truncated
// when the frame lies past the data.
void ybr_full_422_to_full(const std::uint8_t* src, std::size_t size, std::uint64_t index, const frame_desc& desc,
                          bool big_endian, std::uint8_t* out, std::size_t out_size);

}  // namespace turbodicom::codec::native
