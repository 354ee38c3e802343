// JPEG encoders (ITU-T T.81): lossless (process 14, Huffman) and baseline sequential DCT.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/common/frame.hpp"

namespace turbodicom::codec::jpeg {

// Lossless, SOF3, one scan with all components interleaved, point transform 0.
// `samples`: desc.samples() values, colour-by-pixel, bits_allocated/8 bytes each (1 or 2) in
// host byte order; the precision is desc.bits_stored (2..16), values are taken modulo
// 2^bits_stored (signed data as its two's complement bit pattern). predictor 1..7 (1 = SV1).
// Colour-by-plane input (desc.planar_configuration 1) is accepted too. Each component gets
// its own Huffman table, built from the image's difference statistics (T.81 K.2).
// Throws codec_error (bad_argument) when the description or the buffer size is invalid.
std::vector<std::uint8_t> encode_lossless(const std::uint8_t* samples, std::size_t size,
                                          const frame_desc& desc, int predictor = 1);

enum class subsampling { s444, s422, s420 };

struct baseline_options {
    int quality = 90;                      // 1..100, the IJG scaling of the T.81 Annex K tables
    subsampling chroma = subsampling::s422;
    bool rgb_to_ycbcr = true;              // 3 components: convert RGB to YCbCr (JFIF) first;
                                           // false: the samples are YCbCr (YBR_FULL) already
    bool keep_rgb = false;                 // 3 components stored as RGB (ids 'R','G','B', no JFIF,
                                           // no subsampling); overrides rgb_to_ycbcr and chroma
    bool optimize_huffman = false;         // Huffman tables from the image (T.81 K.2) instead
                                           // of the Annex K.3 ones: ~10% smaller, ~15% slower
};

// Baseline, SOF0, 8-bit, 1 or 3 components, `samples` 1 byte each, colour-by-pixel (or
// colour-by-plane with desc.planar_configuration 1); unsigned samples only. Three components
// are written as Y, Cb, Cr (ids 1, 2, 3) with a JFIF APP0 segment, the chroma ones
// subsampled by averaging per `options.chroma`; partial MCUs are padded by repeating the
// last column and row. Throws codec_error (bad_argument) on an invalid description/options.
std::vector<std::uint8_t> encode_baseline(const std::uint8_t* samples, std::size_t size,
                                          const frame_desc& desc, const baseline_options& options);

}  // namespace turbodicom::codec::jpeg
