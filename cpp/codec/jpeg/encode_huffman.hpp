// Huffman tables for the JPEG encoders: the T.81 Annex K.3 typical tables, tables built
// from symbol statistics (Annex K.2) and the code assignment of Annex C.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace turbodicom::codec::jpeg::encoding {

// A table as a DHT segment carries it: BITS (the number of codes of each length 1..16)
// and HUFFVAL (the symbols in order of increasing code length).
struct huffman_table {
    std::array<std::uint8_t, 16> bits{};
    std::vector<std::uint8_t> values;
};

// The code and its length for each symbol; length 0 for symbols the table does not hold.
struct huffman_codes {
    std::array<std::uint16_t, 256> code{};
    std::array<std::uint8_t, 256> length{};
};

using symbol_counts = std::array<std::uint64_t, 256>;

// Annex C: codes of increasing length, consecutive within a length.
huffman_codes make_codes(const huffman_table& table);

// Annex K.2: an optimal table for the counted symbols (those with a count of 0 get no
// code), lengths limited to 16 bits and no code of all 1-bits. With no symbol counted at
// all, symbol 0 gets a code so that the table is never empty.
huffman_table optimal_table(const symbol_counts& counts);

// Annex K.3: the tables for 8-bit luminance and chrominance DC differences and AC
// coefficients (Tables K.3 to K.6).
const huffman_table& standard_dc_luminance();
const huffman_table& standard_dc_chrominance();
const huffman_table& standard_ac_luminance();
const huffman_table& standard_ac_chrominance();

}  // namespace turbodicom::codec::jpeg::encoding
