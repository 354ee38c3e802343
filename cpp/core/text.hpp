// Text rules shared by the value converters: Python's strip and split as
// pydicom applies them to single-byte text, and the PS3.5 6.2 patterns that
// pydicom checks for UI, IS and DS.
#pragma once
#include <utility>
#include <vector>

namespace turbodicom::core {

// str.rstrip(" \0")
inline void rstrip_space_nul(const char* b, const char*& e) {
    while (e > b && (e[-1] == ' ' || e[-1] == '\0')) --e;
}

// The characters str.strip() removes from Latin-1 text.
inline bool is_py_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xA0;
}

// str.strip()
inline void strip_ws(const char*& b, const char*& e) {
    while (b < e && is_py_space(static_cast<unsigned char>(*b))) ++b;
    while (e > b && is_py_space(static_cast<unsigned char>(e[-1]))) --e;
}

// str.split("\\")
inline std::vector<std::pair<const char*, const char*>> split_backslash(const char* b, const char* e) {
    std::vector<std::pair<const char*, const char*>> parts;
    const char* start = b;
    for (const char* p = b; p < e; ++p) {
        if (*p == '\\') {
            parts.emplace_back(start, p);
            start = p + 1;
        }
    }
    parts.emplace_back(start, e);
    return parts;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$
inline bool valid_uid(const char* b, const char* e) {
    const char* p = b;
    for (;;) {
        if (p >= e || !is_digit(*p)) return false;
        if (*p == '0') {
            ++p;
        } else {
            while (p < e && is_digit(*p)) ++p;
        }
        if (p == e) return true;
        if (*p != '.') return false;
        ++p;
    }
}

// ^ *[+\-]?\d+ *$ ; `digits` receives the number of digits.
inline bool valid_is(const char* b, const char* e, long* digits = nullptr) {
    const char* p = b;
    while (p < e && *p == ' ') ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* first = p;
    while (p < e && is_digit(*p)) ++p;
    if (p == first) return false;
    if (digits) *digits = p - first;
    while (p < e && *p == ' ') ++p;
    return p == e;
}

// ^ *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *$ : a number float() reads exactly as pydicom does.
inline bool valid_ds(const char* b, const char* e) {
    const char* p = b;
    while (p < e && *p == ' ') ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* s = p;
    while (p < e && is_digit(*p)) ++p;
    const bool int_digits = p > s;
    if (p < e && *p == '.') {
        ++p;
        const char* f = p;
        while (p < e && is_digit(*p)) ++p;
        if (!int_digits && p == f) return false;
    } else if (!int_digits) {
        return false;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        ++p;
        if (p < e && (*p == '+' || *p == '-')) ++p;
        const char* x = p;
        while (p < e && is_digit(*p)) ++p;
        if (p == x) return false;
    }
    while (p < e && *p == ' ') ++p;
    return p == e;
}

}  // namespace turbodicom::core
