#include "scan/values.hpp"

#include "core/bytes.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace turbodicom::scan {
namespace {

enum class family { numbers, tag, bytes, text_split, text_ae, text_lang, text_single, person_name, ui, is, ds, other };

constexpr std::uint16_t code(char a, char b) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(a) << 8) | static_cast<unsigned char>(b));
}

family family_of(const std::string& vr, int pixel_representation, char& format) {
    format = 0;
    if (vr.size() != 2) {
        if (vr == "US or SS") {
            format = pixel_representation == 1 ? 'h' : 'H';
            return family::numbers;
        }
        if (vr == "OB or OW" || vr == "US or OW" || vr == "US or SS or OW") return family::bytes;
        return family::other;
    }
    switch (code(vr[0], vr[1])) {
        case code('U', 'S'): format = 'H'; return family::numbers;
        case code('S', 'S'): format = 'h'; return family::numbers;
        case code('U', 'L'): format = 'L'; return family::numbers;
        case code('S', 'L'): format = 'l'; return family::numbers;
        case code('U', 'V'): format = 'Q'; return family::numbers;
        case code('S', 'V'): format = 'q'; return family::numbers;
        case code('F', 'L'): format = 'f'; return family::numbers;
        case code('F', 'D'): format = 'd'; return family::numbers;
        case code('A', 'T'): return family::tag;
        case code('O', 'B'): case code('O', 'W'): case code('O', 'D'): case code('O', 'F'):
        case code('O', 'L'): case code('O', 'V'): case code('U', 'N'):
            return family::bytes;
        case code('C', 'S'): case code('A', 'S'): case code('D', 'A'): case code('T', 'M'): case code('D', 'T'):
            return family::text_split;
        case code('A', 'E'): return family::text_ae;
        case code('S', 'H'): case code('L', 'O'): case code('U', 'C'): return family::text_lang;
        case code('L', 'T'): case code('S', 'T'): case code('U', 'T'): return family::text_single;
        case code('P', 'N'): return family::person_name;
        case code('U', 'I'): return family::ui;
        case code('I', 'S'): return family::is;
        case code('D', 'S'): return family::ds;
        default: return family::other;
    }
}

std::size_t width_of(char format) { return core::number_width(format); }

std::uint64_t load(const char* p, std::size_t width, bool little) {
    return core::load_uint(reinterpret_cast<const std::uint8_t*>(p), width, little);
}

cell number(const char* p, char format, bool little) {
    const std::uint64_t u = load(p, width_of(format), little);
    cell c;
    c.k = cell::kind::integer;
    switch (format) {
        case 'H': c.i = static_cast<std::uint16_t>(u); break;
        case 'h': c.i = static_cast<std::int16_t>(u); break;
        case 'L': c.i = static_cast<std::uint32_t>(u); break;
        case 'l': c.i = static_cast<std::int32_t>(u); break;
        case 'Q': c.i = static_cast<std::int64_t>(u); c.is_unsigned = true; break;
        case 'q': c.i = static_cast<std::int64_t>(u); break;
        case 'f': {
            const auto w = static_cast<std::uint32_t>(u);
            float f;
            std::memcpy(&f, &w, 4);
            c.k = cell::kind::real;
            c.d = f;
            break;
        }
        default: {
            double d;
            std::memcpy(&d, &u, 8);
            c.k = cell::kind::real;
            c.d = d;
        }
    }
    return c;
}

// One value, or a list of them.
cell one_or_list(std::vector<cell>&& cells) {
    if (cells.size() == 1) return std::move(cells.front());
    cell c;
    c.k = cell::kind::list;
    c.items = std::move(cells);
    return c;
}

cell stored(cell::kind k, const char* b, const char* e, std::string& pool) {
    cell c;
    c.k = k;
    c.offset = static_cast<std::uint32_t>(pool.size());
    c.size = static_cast<std::uint32_t>(e - b);
    pool.append(b, e);
    return c;
}

using core::rstrip_space_nul;
using core::strip_ws;
using core::valid_ds;

// IS values that are exactly a double too (pydicom makes larger ones floats).
bool valid_is(const char* b, const char* e) {
    long digits = 0;
    return core::valid_is(b, e, &digits) && digits <= 15;
}

std::vector<std::pair<const char*, const char*>> split(const char* b, const char* e) {
    return core::split_backslash(b, e);
}

bool plain_ascii(const std::string& s) {
    for (unsigned char c : s) {
        if (c >= 0x80 || c == 0x1B) return false;
    }
    return true;
}

cell python_needed() {
    cell c;
    c.k = cell::kind::python;
    return c;
}

}  // namespace

cell decode(const found_value& v, int pixel_representation, charset_kind charset, std::string& pool) {
    auto text = [&](const char* b, const char* e) { return stored(cell::kind::text, b, e, pool); };
    cell out;
    if (!v.found) return out;
    if (v.sequence) {
        out.k = cell::kind::integer;
        out.i = v.item_count;
        return out;
    }
    // pydicom looks the VR of a private element up by its creator.
    if (v.has_private_creator) return python_needed();
    char format = 0;
    const family f = family_of(v.vr, pixel_representation, format);
    if (f == family::other) return python_needed();
    const bool is_text = f == family::text_split || f == family::text_ae || f == family::text_lang ||
                         f == family::text_single || f == family::person_name || f == family::ui;
    if (!v.has_value || v.length == 0) {
        if (is_text) out.k = cell::kind::text;  // pydicom's empty text value is ''
        else if (f == family::bytes && v.has_value) out.k = cell::kind::bytes;
        return out;
    }
    if (v.bytes.size() != v.length && v.length != 0xFFFFFFFFu) return python_needed();  // cut short
    const char* b = v.bytes.data();
    const char* e = b + v.bytes.size();
    std::vector<cell> cells;
    switch (f) {
        case family::numbers: {
            const std::size_t width = width_of(format);
            if (v.bytes.size() % width != 0) return python_needed();
            for (std::size_t i = 0; i < v.bytes.size(); i += width) cells.push_back(number(b + i, format, v.little));
            return one_or_list(std::move(cells));
        }
        case family::tag: {
            if (v.bytes.size() % 4 != 0) return python_needed();
            for (std::size_t i = 0; i < v.bytes.size(); i += 4) {
                cell c;
                c.k = cell::kind::integer;
                c.i = static_cast<std::int64_t>((load(b + i, 2, v.little) << 16) | load(b + i + 2, 2, v.little));
                cells.push_back(c);
            }
            return one_or_list(std::move(cells));
        }
        case family::bytes:
            return stored(cell::kind::bytes, v.bytes.data(), v.bytes.data() + v.bytes.size(), pool);
        default:
            break;
    }
    // Text in a character set other than the default must be decoded by pydicom.
    const bool charset_dependent = f == family::text_lang || f == family::text_single || f == family::person_name;
    if (charset_dependent && charset != charset_kind::none &&
        !(charset == charset_kind::ascii && plain_ascii(v.bytes))) {
        return python_needed();
    }
    switch (f) {
        case family::text_split:  // pydicom's multi_string
        case family::person_name:
            rstrip_space_nul(b, e);
            for (auto [pb, pe] : split(b, e)) cells.push_back(text(pb, pe));
            return one_or_list(std::move(cells));
        case family::text_ae:
            for (auto [pb, pe] : split(b, e)) {
                strip_ws(pb, pe);
                cells.push_back(text(pb, pe));
            }
            return one_or_list(std::move(cells));
        case family::text_lang:  // convert_text: each value rstripped
            for (auto [pb, pe] : split(b, e)) {
                rstrip_space_nul(pb, pe);
                cells.push_back(text(pb, pe));
            }
            return one_or_list(std::move(cells));
        case family::text_single:
            rstrip_space_nul(b, e);
            return text(b, e);
        case family::ui:
            rstrip_space_nul(b, e);
            for (auto [pb, pe] : split(b, e)) {
                strip_ws(pb, pe);
                cells.push_back(text(pb, pe));
            }
            return one_or_list(std::move(cells));
        case family::is:
            rstrip_space_nul(b, e);
            for (auto [pb, pe] : split(b, e)) {
                if (!valid_is(pb, pe)) return python_needed();
                cell c;
                c.k = cell::kind::integer;
                c.i = std::strtoll(std::string(pb, pe).c_str(), nullptr, 10);
                cells.push_back(c);
            }
            return one_or_list(std::move(cells));
        case family::ds:
            strip_ws(b, e);
            rstrip_space_nul(b, e);
            for (auto [pb, pe] : split(b, e)) {
                if (!valid_ds(pb, pe)) return python_needed();
                cell c;
                c.k = cell::kind::real;
                errno = 0;
                c.d = std::strtod(std::string(pb, pe).c_str(), nullptr);  // correctly rounded, as float() is
                if (errno == ERANGE) return python_needed();
                cells.push_back(c);
            }
            return one_or_list(std::move(cells));
        default:
            return python_needed();
    }
}

}  // namespace turbodicom::scan
