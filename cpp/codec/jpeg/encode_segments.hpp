// Marker segments written by the JPEG encoders (T.81 Annex B), appended to a byte vector.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "codec/jpeg/encode_huffman.hpp"

namespace turbodicom::codec::jpeg::encoding {

struct frame_component {
    std::uint8_t id = 0;
    std::uint8_t h = 1;   // sampling factors
    std::uint8_t v = 1;
    std::uint8_t tq = 0;  // quantisation table (0 for lossless)
};

struct scan_component {
    std::uint8_t id = 0;
    std::uint8_t td = 0;  // DC (or lossless) table
    std::uint8_t ta = 0;  // AC table
};

// Zig-zag position k (Figure A.6) -> natural (row-major) position of the 8x8 block.
extern const std::array<std::uint8_t, 64> zigzag_to_natural;

void put_marker(std::vector<std::uint8_t>& out, std::uint8_t marker);
void put_u16(std::vector<std::uint8_t>& out, unsigned value);

// APP0 "JFIF" version 1.01, no units, aspect ratio 1:1, no thumbnail.
void write_jfif(std::vector<std::uint8_t>& out);
// DQT with one 8-bit table, given in natural order and written in zig-zag order.
void write_dqt(std::vector<std::uint8_t>& out, unsigned id, const std::array<std::uint16_t, 64>& natural);
// DHT with one table; table_class 0 for DC and lossless, 1 for AC.
void write_dht(std::vector<std::uint8_t>& out, unsigned table_class, unsigned id, const huffman_table& table);
void write_sof(std::vector<std::uint8_t>& out, std::uint8_t sof_marker, unsigned precision, unsigned rows,
               unsigned columns, const std::vector<frame_component>& components);
// Ss, Se, Ah, Al: for lossless Ss is the predictor and Al the point transform.
void write_sos(std::vector<std::uint8_t>& out, const std::vector<scan_component>& components, unsigned ss,
               unsigned se, unsigned ah, unsigned al);

}  // namespace turbodicom::codec::jpeg::encoding
