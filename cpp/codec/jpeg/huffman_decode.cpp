#include "codec/jpeg/huffman_decode.hpp"

#include <cstring>

namespace turbodicom::codec::jpeg::dec {
namespace {

// Fills `count` entries with copies of `e`, one whole-entry copy each (compilers tend to
// store a struct fill field by field).
template <class Entry>
void fill_entries(Entry* to, std::size_t count, const Entry& e) {
    for (std::size_t i = 0; i < count; ++i) std::memcpy(to + i, &e, sizeof e);
}

}  // namespace

template <int LookupBits>
void huffman_table<LookupBits>::build(const std::uint8_t counts[16], const std::uint8_t* symbols, int symbol_count,
                                      bool dc_class, std::size_t offset) {
    if (symbol_count > 256) fail(codec_errc::bad_table, offset, "more than 256 Huffman codes");
    std::memset(symbols_, 0, sizeof symbols_);
    std::memcpy(symbols_, symbols, static_cast<std::size_t>(symbol_count));
    for (int i = 0; i < symbol_count; ++i) {
        if (dc_class && symbols_[i] > 16) fail(codec_errc::bad_table, offset, "DC category over 16");
    }

    // Canonical code assignment, T.81 C.2: codes of each length are consecutive, and the
    // first code of the next length is the next code shifted left.
    std::int32_t code = 0;
    int k = 0;
    // Codes up to lookup_bits long fill the lookup table from index 0 without gaps, in
    // increasing order; `filled` is where they end. The rest (prefixes of longer codes, or no
    // code) is zeroed at the end: code_len 0 sends those to decode_long.
    std::uint32_t filled = 0;
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
            filled = first + (1u << shift);
            entry e{};
            e.symbol = static_cast<std::uint8_t>(ac_end ? 0 : symbol);
            e.code_len = static_cast<std::uint8_t>(len);
            if (len + extra > lookup_bits || extra == 0) {
                // One entry for the whole range: the extra bits do not fit, or there are none.
                if (len + extra <= lookup_bits) {
                    e.total_len = static_cast<std::uint8_t>(len);
                    e.value = (size == 0 || ac_end) ? 0 : 32768;
                }
                fill_entries(lut_ + first, std::size_t(1) << shift, e);
            } else {
                // The range splits by the value of the extra bits, each part one entry.
                e.total_len = static_cast<std::uint8_t>(len + extra);
                const int rest = shift - extra;
                for (std::uint32_t bits = 0; bits < (1u << extra); ++bits) {
                    e.value = extend(bits, extra);
                    fill_entries(lut_ + first + (bits << rest), std::size_t(1) << rest, e);
                }
            }
        }
        code <<= 1;
    }
    fill_entries(lut_ + filled, (std::size_t(1) << lookup_bits) - filled, entry{});
    maxcode_[17] = 0x7FFFFFFF;  // sentinel: never reached, lengths stop at 16
    valoffset_[17] = 0;
    defined = true;
}

template <int LookupBits>
int huffman_table<LookupBits>::decode_long(bit_reader& reader) const {
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

template class huffman_table<10>;
template class huffman_table<11>;

}  // namespace turbodicom::codec::jpeg::dec
