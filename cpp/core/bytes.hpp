// Endian-aware loads from unaligned bytes.
#pragma once
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

}  // namespace turbodicom::core
