// Small text helpers shared by the value converters: Python's strip rules on
// ASCII, backslash splitting, and the PS3.5 6.2 patterns of UI, IS and DS.
#pragma once
#include <Python.h>

#include <utility>
#include <vector>

namespace turbodicom::bindings {

// Python's str.rstrip(" \0") and str.strip() on ASCII text.
inline void rstrip_space_nul(const char* b, const char*& e) {
    while (e > b && (e[-1] == ' ' || e[-1] == '\0')) --e;
}
inline bool is_py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c' || (c >= 0x1c && c <= 0x1f); }
inline void strip_ws(const char*& b, const char*& e) {
    while (b < e && is_py_space(*b)) ++b;
    while (e > b && is_py_space(e[-1])) --e;
}

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

inline PyObject* new_str(const char* b, const char* e) { return PyUnicode_DecodeLatin1(b, e - b, nullptr); }

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

// ^ *[+\-]?\d+ *$
inline bool valid_is(const char* b, const char* e) {
    const char* p = b;
    while (p < e && *p == ' ') ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* digits = p;
    while (p < e && is_digit(*p)) ++p;
    if (p == digits) return false;
    while (p < e && *p == ' ') ++p;
    return p == e;
}

// ^ *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *$ (what float() reads exactly as pydicom does)
inline bool valid_ds(const char* b, const char* e) {
    const char* p = b;
    while (p < e && *p == ' ') ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* s = p;
    while (p < e && is_digit(*p)) ++p;
    bool int_digits = p > s;
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

}  // namespace turbodicom::bindings
