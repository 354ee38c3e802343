// JPEG marker codes (ITU-T T.81 Table B.1), shared by the decoder and the encoders.
#pragma once
#include <cstdint>

namespace turbodicom::codec::jpeg::marker {

constexpr std::uint8_t SOF0 = 0xC0;   // baseline DCT
constexpr std::uint8_t SOF1 = 0xC1;   // extended sequential DCT, Huffman
constexpr std::uint8_t SOF2 = 0xC2;   // progressive DCT, Huffman
constexpr std::uint8_t SOF3 = 0xC3;   // lossless, Huffman
constexpr std::uint8_t DHT = 0xC4;
constexpr std::uint8_t SOF9 = 0xC9;   // arithmetic coding: recognised, not supported
constexpr std::uint8_t DAC = 0xCC;
constexpr std::uint8_t RST0 = 0xD0;   // RST0..RST7 = 0xD0..0xD7
constexpr std::uint8_t SOI = 0xD8;
constexpr std::uint8_t EOI = 0xD9;
constexpr std::uint8_t SOS = 0xDA;
constexpr std::uint8_t DQT = 0xDB;
constexpr std::uint8_t DNL = 0xDC;
constexpr std::uint8_t DRI = 0xDD;
constexpr std::uint8_t APP0 = 0xE0;   // APP0..APP15 = 0xE0..0xEF
constexpr std::uint8_t APP14 = 0xEE;
constexpr std::uint8_t COM = 0xFE;

inline bool is_rst(std::uint8_t m) { return m >= 0xD0 && m <= 0xD7; }
inline bool is_sof(std::uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != DHT && m != 0xC8 && m != DAC; }

}  // namespace turbodicom::codec::jpeg::marker
