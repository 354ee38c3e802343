// Writes the entropy-coded segment of a JPEG scan: bits most significant first, with a
// 0x00 stuffed after every 0xFF byte (T.81 F.1.2.3) and 1-bits padding the last byte.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace turbodicom::codec::jpeg::encoding {

class bit_writer {
public:
    // Appends to `out`, which keeps what it already holds (the headers); `expected_bytes`
    // is room made at once, more is added as needed.
    bit_writer(std::vector<std::uint8_t>& out, std::size_t expected_bytes) : out_(out), pos_(out.size()) {
        grow(expected_bytes + 64);
    }

    // `bits` holds exactly `length` significant bits, length <= 32.
    void put(std::uint32_t bits, unsigned length) {
        acc_ = (acc_ << length) | bits;
        count_ += length;
        if (count_ >= 32) {
            count_ -= 32;
            emit32(static_cast<std::uint32_t>(acc_ >> count_));
        }
    }

    // Pads the last byte with 1-bits, writes what is pending and trims `out` to its end.
    void finish() {
        const unsigned pad = (8 - count_ % 8) % 8;
        put((1u << pad) - 1, pad);
        reserve(8);
        while (count_ >= 8) {
            count_ -= 8;
            emit8(static_cast<std::uint8_t>(acc_ >> count_));
        }
        out_.resize(pos_);
    }

private:
    void reserve(std::size_t n) {
        if (out_.size() - pos_ < n) grow(out_.size() + n);
    }
    void grow(std::size_t extra) { out_.resize(out_.size() + std::max(extra, out_.size() / 2)); }

    void emit8(std::uint8_t b) {
        out_[pos_++] = b;
        if (b == 0xFF) out_[pos_++] = 0x00;
    }

    void emit32(std::uint32_t w) {
        reserve(8);
        // A word without any 0xFF byte (the usual case) needs no stuffing.
        const std::uint32_t inverted = ~w;
        if (((inverted - 0x01010101u) & ~inverted & 0x80808080u) == 0) {
            std::uint8_t* p = out_.data() + pos_;
            p[0] = static_cast<std::uint8_t>(w >> 24);
            p[1] = static_cast<std::uint8_t>(w >> 16);
            p[2] = static_cast<std::uint8_t>(w >> 8);
            p[3] = static_cast<std::uint8_t>(w);
            pos_ += 4;
        } else {
            emit8(static_cast<std::uint8_t>(w >> 24));
            emit8(static_cast<std::uint8_t>(w >> 16));
            emit8(static_cast<std::uint8_t>(w >> 8));
            emit8(static_cast<std::uint8_t>(w));
        }
    }

    std::vector<std::uint8_t>& out_;
    std::size_t pos_;
    std::uint64_t acc_ = 0;  // the low count_ bits are pending
    unsigned count_ = 0;
};

// Number of significant bits of a magnitude: the JPEG category SSSS (T.81 F.1.2.1).
inline unsigned bit_length(std::uint32_t magnitude) {
#if defined(__GNUC__) || defined(__clang__)
    return magnitude ? 32u - static_cast<unsigned>(__builtin_clz(magnitude)) : 0u;
#else
    unsigned n = 0;
    while (magnitude) {
        ++n;
        magnitude >>= 1;
    }
    return n;
#endif
}

}  // namespace turbodicom::codec::jpeg::encoding
