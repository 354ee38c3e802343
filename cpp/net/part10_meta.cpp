// Reading a Part 10 file's meta group (PS3.10 7.1, PS3.5 7.1.2 for the element layout).
#include "net/part10_meta.hpp"

#include <cstring>

namespace turbodicom::net {

namespace {

constexpr std::size_t preamble = 128;
constexpr std::size_t meta_start = preamble + 4;  // after "DICM"

std::uint16_t le16(const std::uint8_t* p) { return std::uint16_t(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

bool long_length_vr(const std::uint8_t* vr) {
    static const char* const vrs[] = {"OB", "OW", "OF", "SQ", "UT", "UN"};
    for (const char* v : vrs) {
        if (vr[0] == std::uint8_t(v[0]) && vr[1] == std::uint8_t(v[1])) return true;
    }
    return false;
}

// A UI value without its padding; false when it holds anything but printable ASCII (such
// a value could not be put in a command set unchanged).
bool uid_text(const std::uint8_t* value, std::size_t length, std::string& out) {
    while (length > 0 && (value[length - 1] == 0 || value[length - 1] == ' ')) --length;
    for (std::size_t i = 0; i < length; ++i) {
        if (value[i] < 0x20 || value[i] > 0x7E) return false;
    }
    out.assign(reinterpret_cast<const char*>(value), length);
    return true;
}

}  // namespace

std::optional<part10_meta> read_part10_meta(const std::uint8_t* data, std::size_t size) {
    if (size < meta_start || std::memcmp(data + preamble, "DICM", 4) != 0) return std::nullopt;
    part10_meta meta;
    std::size_t pos = meta_start;
    while (size - pos >= 8) {
        const std::uint16_t group = le16(data + pos);
        const std::uint16_t element = le16(data + pos + 2);
        if (group != 0x0002) {
            if (meta.sop_class.empty() || meta.sop_instance.empty() || meta.transfer_syntax.empty()) {
                return std::nullopt;
            }
            meta.dataset_offset = pos;
            return meta;
        }
        const std::uint8_t* vr = data + pos + 4;
        std::size_t start;
        std::uint32_t length;
        if (long_length_vr(vr)) {
            if (size - pos < 12) return std::nullopt;
            length = le32(data + pos + 8);
            start = pos + 12;
        } else {
            length = le16(data + pos + 6);
            start = pos + 8;
        }
        if (length == 0xFFFFFFFFu || length > size - start) return std::nullopt;
        if (vr[0] == 'U' && vr[1] == 'I') {
            std::string* target = element == 0x0002 ? &meta.sop_class
                                  : element == 0x0003 ? &meta.sop_instance
                                  : element == 0x0010 ? &meta.transfer_syntax
                                                      : nullptr;
            if (target != nullptr && !uid_text(data + start, length, *target)) return std::nullopt;
        }
        pos = start + length;
    }
    return std::nullopt;  // the group does not end within the bytes given
}

}  // namespace turbodicom::net
