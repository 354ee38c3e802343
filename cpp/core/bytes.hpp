// Endian-aware loads from unaligned bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace turbodicom::core {

inline std::uint16_t load_u16(const std::uint8_t* p, bool little) noexcept {
    return little ? static_cast<std::uint16_t>(p[0] | (p[1] << 8))
                  : static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t load_u32(const std::uint8_t* p, bool little) noexcept {
    return little ? (std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
                     (std::uint32_t(p[3]) << 24))
                  : ((std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
                     std::uint32_t(p[3]));
}

// A tag is stored as two 16-bit words, group then element.
inline std::uint32_t load_tag(const std::uint8_t* p, bool little) noexcept {
    return (std::uint32_t(load_u16(p, little)) << 16) | load_u16(p + 2, little);
}

// Bytes per value of the binary number VRs, by struct format letter:
// 'H'/'h' US/SS, 'L'/'l' UL/SL, 'Q'/'q' UV/SV, 'f' FL, 'd' FD.
inline std::size_t number_width(char format) noexcept {
    switch (format) {
        case 'H': case 'h': return 2;
        case 'Q': case 'q': case 'd': return 8;
        default: return 4;
    }
}

// An unsigned integer of `width` (at most 8) bytes.
inline std::uint64_t load_uint(const std::uint8_t* p, std::size_t width, bool little) noexcept {
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < width; ++i) u |= std::uint64_t(little ? p[i] : p[width - 1 - i]) << (8 * i);
    return u;
}

}  // namespace turbodicom::core
