#include "codec/jpeg/huffman_decode.hpp"

#include <cstring>

namespace turbodicom::codec::jpeg::dec {

void huffman_table::build(const std::uint8_t counts[16], const std::uint8_t* symbols, int symbol_count,
                          bool dc_class, std::size_t offset) {
    if (symbol_count > 256) fail(codec_errc::bad_table, offset, "more than 256 Huffman codes");
    std::memset(lut_, 0, sizeof lut_);
    std::memset(symbols_, 0, sizeof symbols_);
    std::memcpy(symbols_, symbols, static_cast<std::size_t>(symbol_count));
    for (int i = 0; i < symbol_count; ++i) {
        if (dc_class && symbols_[i] > 16) fail(codec_errc::bad_table, offset, "DC category over 16");
    }

    // Canonical code assignment, T.81 C.2: codes of each length are consecutive, and the
    // first code of the next length is the next code shifted left.
    std::int32_t code = 0;
    int k = 0;
    for (int len = 1; len <= 16; ++len) {
        const int n = counts[len - 1];
        valoffset_[len] = k - code;
        maxcode_[len] = n != 0 ? code + n - 1 : -1;
        for (int i = 0; i < n; ++i, ++k, ++code) {
            if (code >= (1 << len)) fail(codec_errc::bad_table, offset, "Huffman code lengths overflow the code space");
            if (len > lookup_bits) continue;
            const int symbol = symbols_[k];
            int size = dc_class ? symbol : (symbol & 15);
            // In sequential AC tables a zero size with a run other than 15 ends the block
            // like EOB (decoders treat it so); mapping it to EOB keeps the fast path simple.
            const int ac_end = !dc_class && size == 0 && symbol != 0xF0;
            const int extra = (dc_class && size == 16) ? 0 : size;
            const int shift = lookup_bits - len;
            const std::uint32_t first = static_cast<std::uint32_t>(code) << shift;
            const std::uint32_t last = first + (1u << shift);
            for (std::uint32_t idx = first; idx < last; ++idx) {
                entry& e = lut_[idx];
                e.symbol = static_cast<std::uint8_t>(ac_end ? 0 : symbol);
                e.code_len = static_cast<std::uint8_t>(len);
                if (len + extra <= lookup_bits) {
                    e.total_len = static_cast<std::uint8_t>(len + extra);
                    if (size == 0 || ac_end) {
                        e.value = 0;
                    } else if (extra == 0) {
                        e.value = 32768;
                    } else {
                        const std::uint32_t bits = (idx >> (lookup_bits - len - extra)) & ((1u << extra) - 1);
                        e.value = extend(bits, extra);
                    }
                }
            }
        }
        code <<= 1;
    }
    maxcode_[17] = 0x7FFFFFFF;  // sentinel: never reached, lengths stop at 16
    valoffset_[17] = 0;
    defined = true;
}

int huffman_table::decode_long(bit_reader& reader) const {
    const std::uint32_t bits16 = reader.peek(16);
    for (int len = lookup_bits + 1; len <= 16; ++len) {
        const std::int32_t code = static_cast<std::int32_t>(bits16 >> (16 - len));
        if (code <= maxcode_[len]) {
            reader.skip(len);
            const int index = valoffset_[len] + code;
            return symbols_[index & 0xFF];
        }
    }
    // Not a code of this table. Inside made-up zero bits at the end of a truncated stream this
    // is expected: end the block quietly; in real data it is an error.
    if (reader.made_up_bytes() != 0) {
        reader.skip(16);
        return 0;
    }
    fail(codec_errc::bad_data, reader.pos(), "invalid Huffman code");
}

}  // namespace turbodicom::codec::jpeg::dec
