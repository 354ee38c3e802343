// Reads the entropy-coded segment of a JPEG scan most significant bit first, removing the
// stuffed zero byte after each 0xFF (ITU-T T.81 F.1.2.3). A marker or the end of the buffer
// stops reading: from there on zero bits are supplied, as decoders do for truncated streams,
// and the reader counts how many it made up so that the caller can tell.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace turbodicom::codec::jpeg::dec {

class bit_reader {
public:
    bit_reader(const std::uint8_t* data, std::size_t size, std::size_t pos) : data_(data), size_(size), pos_(pos) {}

    // At least 57 bits are buffered after this: enough for one Huffman code plus 16 extra bits.
    void refill() {
        if (count_ > 56) return;
        if (pos_ + 8 <= size_) {
            std::uint64_t word = load_be64(data_ + pos_);
            if (!has_ff_byte(word)) {
                // Bits under count_ that belong to a byte not yet consumed are that byte's own
                // leading bits, so OR-ing the same byte in again later leaves them unchanged.
                bits_ |= word >> count_;
                pos_ += (63 - count_) >> 3;
                count_ |= 56;
                return;
            }
        }
        refill_slow();
    }

    void ensure(int n) {
        if (count_ < n) refill();
    }

    std::uint32_t peek(int n) const { return static_cast<std::uint32_t>(bits_ >> (64 - n)); }
    void skip(int n) {
        bits_ <<= n;
        count_ -= n;
    }
    // 1 <= n <= 16; the caller has ensured n bits.
    std::uint32_t take(int n) {
        std::uint32_t v = peek(n);
        skip(n);
        return v;
    }

    // Drops the buffered bits and the end-of-data state: the next bits come from pos().
    void reset_at(std::size_t pos) {
        bits_ = 0;
        count_ = 0;
        pos_ = pos;
        stopped_ = false;
    }

    std::size_t pos() const { return pos_; }
    std::uint64_t made_up_bytes() const { return made_up_; }

private:
    static std::uint64_t load_be64(const std::uint8_t* p) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
#if defined(__GNUC__) || defined(__clang__)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
#endif
#else
        v = (std::uint64_t(p[0]) << 56) | (std::uint64_t(p[1]) << 48) | (std::uint64_t(p[2]) << 40) |
            (std::uint64_t(p[3]) << 32) | (std::uint64_t(p[4]) << 24) | (std::uint64_t(p[5]) << 16) |
            (std::uint64_t(p[6]) << 8) | std::uint64_t(p[7]);
#endif
        return v;
    }
    static bool has_ff_byte(std::uint64_t w) {
        const std::uint64_t inv = ~w;
        return ((inv - 0x0101010101010101ull) & ~inv & 0x8080808080808080ull) != 0;
    }

    void refill_slow() {
        while (count_ <= 56) {
            std::uint64_t byte = 0;
            if (!stopped_ && pos_ < size_) {
                byte = data_[pos_];
                if (byte == 0xFF) {
                    if (pos_ + 1 < size_ && data_[pos_ + 1] == 0x00) {
                        pos_ += 2;
                    } else {
                        // A marker (or fill bytes before one, or the end): the segment is over.
                        stopped_ = true;
                        byte = 0;
                        ++made_up_;
                    }
                } else {
                    ++pos_;
                }
            } else {
                stopped_ = true;
                ++made_up_;
            }
            bits_ |= byte << (56 - count_);
            count_ += 8;
        }
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_;
    std::uint64_t bits_ = 0;
    int count_ = 0;
    bool stopped_ = false;
    std::uint64_t made_up_ = 0;
};

}  // namespace turbodicom::codec::jpeg::dec
