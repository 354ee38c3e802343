// JPEG decoder (ITU-T T.81): baseline and extended sequential DCT (8 and 12 bit),
// progressive DCT, and lossless (processes 14 and 14 SV1), Huffman coded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace turbodicom::codec::jpeg {

struct component_info {
    std::uint8_t id = 0;
    std::uint8_t h = 1;   // horizontal sampling factor
    std::uint8_t v = 1;   // vertical sampling factor
    std::uint8_t tq = 0;  // quantisation table selector (DCT processes)
};

struct stream_info {
    std::uint32_t width = 0;
    std::uint32_t height = 0;  // from the frame header, or from DNL when the header has 0
    std::uint8_t precision = 0;
    std::uint8_t process = 0;  // the SOF marker: 0xC0, 0xC1, 0xC2 or 0xC3
    std::vector<component_info> components;
    bool jfif = false;          // an APP0 "JFIF\0" segment
    int adobe_transform = -1;   // the APP14 "Adobe" transform flag, -1 when absent
};

// Reads the markers up to and including the first frame header.
stream_info read_info(const std::uint8_t* data, std::size_t size);

// Decodes a whole stream into `out`: width x height x components samples, colour-by-pixel,
// at full resolution, each sample `sample_bytes` (1 or 2) wide in host byte order. No colour
// transform is applied: the components are returned as coded. Throws codec_error.
void decode(const std::uint8_t* data, std::size_t size, std::uint8_t* out, std::size_t out_size,
            unsigned sample_bytes);

}  // namespace turbodicom::codec::jpeg
