// Huffman decoding tables (ITU-T T.81 Annex C and F.2.2.3). A lookup on the next
// lookup_bits bits gives the code length and symbol of every code that short, and when the
// extra bits (F.2.2.1) fit in the same lookup, the signed value as well, so that most
// coefficients and lossless differences cost one table read.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/common/codec_error.hpp"
#include "codec/jpeg/bit_reader.hpp"

namespace turbodicom::codec::jpeg::dec {

template <int LookupBits>
class huffman_table {
public:
    static constexpr int lookup_bits = LookupBits;

    struct entry {
        std::int32_t value;      // the extended value, when total_len != 0
        std::uint8_t symbol;     // valid when code_len != 0
        std::uint8_t code_len;   // 0: longer than lookup_bits, or not a code
        std::uint8_t total_len;  // code + extra bits when they fit, else 0
        std::uint8_t pad;
    };

    // counts[i]: number of codes of length i + 1; symbols: the HUFFVAL list.
    // `dc_class`: the symbol is a magnitude category SSSS (DC and lossless tables, up to 16);
    // otherwise RRRRSSSS (AC tables). Throws codec_error(bad_table) at `offset`.
    void build(const std::uint8_t counts[16], const std::uint8_t* symbols, int symbol_count, bool dc_class,
               std::size_t offset);

    const entry& lookup(std::uint32_t index) const { return lut_[index]; }

    // Decodes a code longer than lookup_bits (or an invalid one). Returns the symbol.
    int decode_long(bit_reader& reader) const;

    bool defined = false;

private:
    entry lut_[1u << lookup_bits];
    std::int32_t maxcode_[18];   // largest code of each length, -1 when none
    std::int32_t valoffset_[18]; // index into symbols_ minus the first code of each length
    std::uint8_t symbols_[256];
};

// DC differences and lossless differences: categories with their extra bits mostly fit in
// 10 bits. AC coefficients gain from one bit more (run/size codes are longer); 16 KiB each.
// The eight tables of a stream stay under 100 KiB, small enough for one ordinary allocation
// (larger blocks are typically mapped afresh, page by page, on every decode).
using dc_huffman_table = huffman_table<10>;
using ac_huffman_table = huffman_table<11>;

// Sign extension of T.81 F.2.2.1 (EXTEND): `bits` holds `size` received bits, 1 <= size <= 16.
inline std::int32_t extend(std::uint32_t bits, int size) {
    const std::int32_t v = static_cast<std::int32_t>(bits);
    return v < (1 << (size - 1)) ? v - (1 << size) + 1 : v;
}

// Decodes one symbol; the reader must hold at least 16 bits.
template <int LookupBits>
inline int decode_symbol(bit_reader& reader, const huffman_table<LookupBits>& table) {
    const auto& e = table.lookup(reader.peek(LookupBits));
    if (e.code_len != 0) {
        reader.skip(e.code_len);
        return e.symbol;
    }
    return table.decode_long(reader);
}

// Decodes a DC difference or lossless difference: a category SSSS and its extra bits.
// SSSS = 16 (lossless only) means 32768 with no extra bits (T.81 H.1.2.2).
template <int LookupBits>
inline std::int32_t decode_difference(bit_reader& reader, const huffman_table<LookupBits>& table) {
    reader.ensure(32);
    const auto& e = table.lookup(reader.peek(LookupBits));
    if (e.total_len != 0) {
        reader.skip(e.total_len);
        return e.value;
    }
    int size;
    if (e.code_len != 0) {
        reader.skip(e.code_len);
        size = e.symbol;
    } else {
        size = table.decode_long(reader);
    }
    if (size == 0) return 0;
    if (size >= 16) return 32768;
    return extend(reader.take(size), size);
}

}  // namespace turbodicom::codec::jpeg::dec
