// Tests of the Part 10 reader (parse/parser.hpp): datasets built byte by byte in
// each encoding, the File Meta Information and the transfer syntax it names,
// sequences and items, encapsulated pixel data, and untrusted input (lengths
// past the end, huge lengths, every truncation, and the real files of
// ../shared/corpus truncated and with bytes flipped).
// Plain executable: prints one line per failure, returns non-zero on failure.
// The working directory is the repository root (set by CMake).
#include "parse/parser.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "core/dictionary.hpp"
#include "core/error.hpp"
#include "core/test_support.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define PARSER_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARSER_TEST_ASAN 1
#endif
#endif

#if defined(PARSER_TEST_ASAN)
#include <sanitizer/common_interface_defs.h>
#else
#include <csignal>
#include <unistd.h>
#endif

// ---------------------------------------------------------------------------
// Allocation tracking: the largest single request made through operator new
// while tracking is on, so that a test can tell that no length read from the
// input was used to size an allocation.

namespace {
bool tracking = false;
std::size_t largest_allocation = 0;

void* allocate(std::size_t n) {
    if (tracking && n > largest_allocation) largest_allocation = n;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace core = turbodicom::core;
namespace parse = turbodicom::parse;
using core::errc;
using parse::dataset_index;
using parse::element;
using parse::file_index;
using parse::read_options;
using parse::undefined_length;
using parse::value_kind;
using parse::vr_code;
using bytes = std::vector<std::uint8_t>;
using turbodicom::test::current_test;
using turbodicom::test::expect_error;
using turbodicom::test::fail;

// ---------------------------------------------------------------------------
// Reporting

// What is being parsed, printed if the process dies (a crash or a sanitizer report).
char current_case[512] = "";

void set_case(const std::string& s) { std::snprintf(current_case, sizeof current_case, "%s", s.c_str()); }

void print_current_case() {
    if (current_case[0] != '\0') {
        const char prefix[] = "\nparser_test: died while parsing: ";
        fwrite(prefix, 1, sizeof prefix - 1, stderr);
        fwrite(current_case, 1, std::strlen(current_case), stderr);
        fwrite("\n", 1, 1, stderr);
        fflush(stderr);
    }
}

#if !defined(PARSER_TEST_ASAN)
void on_fatal_signal(int sig) {
    print_current_case();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}
#endif

std::string show_vr(std::uint16_t vr) {
    std::string s;
    s += static_cast<char>(vr >> 8);
    s += static_cast<char>(vr & 0xFF);
    return s;
}

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llX", static_cast<unsigned long long>(v));
    return buf;
}

// Runs f, which must either return or raise core::error; returns true if it returned.
template <class F>
bool returns_or_raises(const std::string& what, F&& f) {
    try {
        f();
        return true;
    } catch (const core::error&) {
        return false;
    } catch (const std::exception& e) {
        fail(what + ": unexpected exception (not core::error): " + e.what());
    } catch (...) {
        fail(what + ": unexpected exception of unknown type");
    }
    return false;
}

// ---------------------------------------------------------------------------
// Building DICOM bytes

bool long_length_vr(const char* vr) {
    static const char* const long_vrs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                           "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* v : long_vrs) {
        if (std::strncmp(v, vr, 2) == 0) return true;
    }
    return false;
}

class writer {
public:
    explicit writer(bool implicit = false, bool little = true) : implicit_(implicit), little_(little) {}

    bytes b;
    std::size_t size() const { return b.size(); }

    void u8(std::uint8_t v) { b.push_back(v); }
    void u16(std::uint16_t v) {
        const auto lo = static_cast<std::uint8_t>(v & 0xFF);
        const auto hi = static_cast<std::uint8_t>(v >> 8);
        if (little_) {
            u8(lo);
            u8(hi);
        } else {
            u8(hi);
            u8(lo);
        }
    }
    void u32(std::uint32_t v) {
        const auto lo = static_cast<std::uint16_t>(v & 0xFFFF);
        const auto hi = static_cast<std::uint16_t>(v >> 16);
        if (little_) {
            u16(lo);
            u16(hi);
        } else {
            u16(hi);
            u16(lo);
        }
    }
    void tag(std::uint32_t t) {
        u16(static_cast<std::uint16_t>(t >> 16));
        u16(static_cast<std::uint16_t>(t & 0xFFFF));
    }
    void raw(const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
    void fill(std::size_t n, std::uint8_t v) { b.insert(b.end(), n, v); }

    // An element header in this writer's encoding; returns the offset of the value.
    std::size_t header(std::uint32_t t, const char* vr, std::uint32_t length) {
        tag(t);
        if (implicit_) {
            u32(length);
        } else {
            u8(static_cast<std::uint8_t>(vr[0]));
            u8(static_cast<std::uint8_t>(vr[1]));
            if (long_length_vr(vr)) {
                u16(0);
                u32(length);
            } else {
                u16(static_cast<std::uint16_t>(length));
            }
        }
        return size();
    }

    // A whole element; returns the offset of the value.
    std::size_t put(std::uint32_t t, const char* vr, const std::string& value) {
        const std::size_t at = header(t, vr, static_cast<std::uint32_t>(value.size()));
        raw(value);
        return at;
    }

    // Item and delimiters (always 8 bytes, whatever the VR encoding).
    std::size_t item(std::uint32_t length) {
        const std::size_t at = size();
        tag(parse::item_tag);
        u32(length);
        return at;
    }
    void item_end() {
        tag(parse::item_delimitation_tag);
        u32(0);
    }
    void sequence_end() {
        tag(parse::sequence_delimitation_tag);
        u32(0);
    }

    // Patches a 4-byte length at `at` (for defined-length items and sequences).
    void patch_u32(std::size_t at, std::uint32_t v) {
        writer w(implicit_, little_);
        w.u32(v);
        std::copy(w.b.begin(), w.b.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
    }

private:
    bool implicit_;
    bool little_;
};

std::string u16_value(std::uint16_t v, bool little = true) {
    writer w(false, little);
    w.u16(v);
    return std::string(w.b.begin(), w.b.end());
}

// ---------------------------------------------------------------------------
// Expectations on an element index

struct expected_element {
    std::uint32_t tag;
    const char* vr;  // nullptr: no VR (implicit)
    std::uint32_t length;
    std::uint64_t value_offset;
    std::uint64_t value_size;
    value_kind kind;
    std::int32_t parent;
};

void check_elements(const dataset_index& d, const std::vector<expected_element>& want, bool implicit, bool little,
                    const std::string& where) {
    if (d.elements.size() != want.size()) {
        fail(where + ": " + std::to_string(d.elements.size()) + " elements, expected " + std::to_string(want.size()));
    }
    const std::size_t n = std::min(d.elements.size(), want.size());
    for (std::size_t i = 0; i < n; ++i) {
        const element& e = d.elements[i];
        const expected_element& x = want[i];
        const std::string at = where + ": element " + std::to_string(i) + " " + hex(x.tag) + ": ";
        if (e.tag != x.tag) fail(at + "tag " + hex(e.tag));
        if (x.vr == nullptr) {
            if (e.has_vr) fail(at + "has VR " + show_vr(e.vr) + ", expected none");
        } else if (!e.has_vr || e.vr != vr_code(x.vr[0], x.vr[1])) {
            fail(at + "VR " + (e.has_vr ? show_vr(e.vr) : std::string("none")) + ", expected " + x.vr);
        }
        if (e.length != x.length) fail(at + "length " + hex(e.length) + ", expected " + hex(x.length));
        if (e.kind != x.kind) {
            fail(at + "kind " + std::to_string(static_cast<int>(e.kind)) + ", expected " +
                 std::to_string(static_cast<int>(x.kind)));
        }
        if (x.kind == value_kind::bytes || x.kind == value_kind::none) {
            if (e.value_offset != x.value_offset) {
                fail(at + "value_offset " + std::to_string(e.value_offset) + ", expected " +
                     std::to_string(x.value_offset));
            }
            if (e.value_size != x.value_size) {
                fail(at + "value_size " + std::to_string(e.value_size) + ", expected " + std::to_string(x.value_size));
            }
        }
        if (e.value_tell != x.value_offset) {
            fail(at + "value_tell " + std::to_string(e.value_tell) + ", expected " + std::to_string(x.value_offset));
        }
        if (e.parent != x.parent) fail(at + "parent " + std::to_string(e.parent) + ", expected " + std::to_string(x.parent));
        if (e.implicit != implicit) fail(at + "implicit flag wrong");
        if (e.little != little) fail(at + "little flag wrong");
    }
}

// Structural invariants of any index the parser returns over a buffer of `size`
// bytes; `top_items_may_be_orphans` for read_sequence_value, whose own items have
// no sequence element. Returns a description of the first violation, or "".
std::string index_problem(const dataset_index& d, std::uint64_t size, bool top_items_may_be_orphans) {
    const auto n_elements = static_cast<std::int64_t>(d.elements.size());
    const auto n_items = static_cast<std::int64_t>(d.items.size());
    for (std::int64_t i = 0; i < n_elements; ++i) {
        const element& e = d.elements[static_cast<std::size_t>(i)];
        const std::string at = "element " + std::to_string(i) + " " + hex(e.tag) + ": ";
        if (e.kind == value_kind::bytes) {
            if (e.value_offset > size || e.value_size > size - e.value_offset) {
                return at + "value [" + std::to_string(e.value_offset) + ", +" + std::to_string(e.value_size) +
                       ") outside the " + std::to_string(size) + "-byte buffer";
            }
            if (e.length != undefined_length && e.value_size > e.length) return at + "value_size > length";
        } else if (e.value_size != 0) {
            return at + "value_size set on an element without bytes";
        }
        if (e.parent < -1 || e.parent >= n_items) return at + "parent " + std::to_string(e.parent) + " out of range";
        if (e.parent >= 0) {
            const std::int32_t seq = d.items[static_cast<std::size_t>(e.parent)].sequence;
            if (seq >= i) return at + "its sequence comes after it";
        }
        if (e.charset != -1) {
            if (e.charset < 0 || e.charset >= i) return at + "charset " + std::to_string(e.charset) + " out of range";
            if (d.elements[static_cast<std::size_t>(e.charset)].tag != 0x00080005u) return at + "charset is not (0008,0005)";
        }
    }
    for (const auto& [offset, length] : d.charset_values) {
        if (offset > size || length > size - offset) return "a Specific Character Set value lies outside the buffer";
    }
    for (std::int64_t j = 0; j < n_items; ++j) {
        const parse::item& it = d.items[static_cast<std::size_t>(j)];
        const std::string at = "item " + std::to_string(j) + ": ";
        if (it.sequence == -1 && top_items_may_be_orphans) continue;
        if (it.sequence < 0 || it.sequence >= n_elements) return at + "sequence " + std::to_string(it.sequence) + " out of range";
        if (d.elements[static_cast<std::size_t>(it.sequence)].kind != value_kind::sequence) return at + "its sequence element is not a sequence";
        if (it.item_tell > size) return at + "item_tell past the end";
    }
    return "";
}

std::string file_problem(const file_index& f, std::uint64_t size) {
    std::string p = index_problem(f.meta, size, false);
    if (!p.empty()) return "meta: " + p;
    p = index_problem(f.command, size, false);
    if (!p.empty()) return "command: " + p;
    p = index_problem(f.dataset, size, false);
    if (!p.empty()) return "dataset: " + p;
    if (f.dataset_offset > size) return "dataset_offset past the end";
    return "";
}

// ---------------------------------------------------------------------------
// Datasets used by several tests

// A few elements of common VRs; the encoding is the writer's. Fills `want`.
void simple_elements(writer& w, std::vector<expected_element>& want, bool implicit) {
    auto vr = [&](const char* v) { return implicit ? nullptr : v; };
    std::size_t at;
    at = w.put(0x00080016u, "UI", std::string("1.2.840.10008.5.1.4.1.1.7\0", 26));
    want.push_back({0x00080016u, vr("UI"), 26, at, 26, value_kind::bytes, -1});
    at = w.put(0x00080020u, "DA", "20240131");
    want.push_back({0x00080020u, vr("DA"), 8, at, 8, value_kind::bytes, -1});
    // Empty text: b"" (bytes) when the VR is known, None when implicit.
    at = w.put(0x00100010u, "PN", "");
    want.push_back({0x00100010u, vr("PN"), 0, at, 0, implicit ? value_kind::none : value_kind::bytes, -1});
    // Empty number: None.
    at = w.put(0x00180088u, "DS", "");
    want.push_back({0x00180088u, vr("DS"), 0, at, 0, value_kind::none, -1});
    at = w.put(0x00280002u, "US", "");
    want.push_back({0x00280002u, vr("US"), 0, at, 0, value_kind::none, -1});
    at = w.put(0x00280010u, "US", u16_value(512));
    want.push_back({0x00280010u, vr("US"), 2, at, 2, value_kind::bytes, -1});
    at = w.put(0x00091010u, "OB", std::string("\x01\x02\x03\x04", 4));
    want.push_back({0x00091010u, vr("OB"), 4, at, 4, value_kind::bytes, -1});
    at = w.put(0x00111010u, "UN", "abcdef");
    want.push_back({0x00111010u, vr("UN"), 6, at, 6, value_kind::bytes, -1});
    at = w.put(0x00321060u, "LT", std::string(300, 'x'));
    want.push_back({0x00321060u, vr("LT"), 300, at, 300, value_kind::bytes, -1});
    at = w.put(0x00400254u, "UT", std::string(70000, 'y'));
    want.push_back({0x00400254u, vr("UT"), 70000, at, 70000, value_kind::bytes, -1});
}

// ---------------------------------------------------------------------------
// Tests

void test_explicit_little() {
    current_test = "explicit VR little endian";
    writer w(false, true);
    std::vector<expected_element> want;
    simple_elements(w, want, false);
    // A VR that is two letters but unknown: taken with a 2-byte length.
    std::size_t at = w.put(0x00191001u, "ZZ", "abcd");
    want.push_back({0x00191001u, "ZZ", 4, at, 4, value_kind::bytes, -1});
    // Not a VR at all: this element is implicit VR (4-byte length).
    w.tag(0x00191002u);
    w.u32(4);
    at = w.size();
    w.raw("wxyz");
    want.push_back({0x00191002u, nullptr, 4, at, 4, value_kind::bytes, -1});
    at = w.put(0x00200013u, "IS", "7 ");
    want.push_back({0x00200013u, "IS", 2, at, 2, value_kind::bytes, -1});

    read_options opt;
    std::uint64_t end = 0;
    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, true, opt, &end);
    check_elements(d, want, false, true, "explicit LE");
    CHECK(!d.implicit);
    CHECK(d.items.empty());
    CHECK(d.warnings.empty());
    CHECK_EQ(end, w.size());
    CHECK_EQ(index_problem(d, w.size(), false), std::string());
}

void test_implicit_little() {
    current_test = "implicit VR little endian";
    writer w(true, true);
    std::vector<expected_element> want;
    simple_elements(w, want, true);

    read_options opt;
    std::uint64_t end = 0;
    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), true, true, opt, &end);
    check_elements(d, want, true, true, "implicit LE");
    CHECK(d.implicit);
    CHECK(d.warnings.empty());
    CHECK_EQ(end, w.size());

    // Told explicit, found implicit: read as implicit, with pydicom's warning.
    const dataset_index e = parse::read_dataset(w.b.data(), w.size(), false, true, opt, nullptr);
    check_elements(e, want, true, true, "implicit LE read as explicit");
    CHECK(e.implicit);
    CHECK_EQ(e.warnings.size(), std::size_t{1});
    if (!e.warnings.empty()) CHECK(e.warnings[0].find("Expected explicit VR, but found implicit VR") != std::string::npos);

    // ...or an error in strict mode.
    opt.raise_on_vr_mismatch = true;
    expect_error<core::error>([&] { parse::read_dataset(w.b.data(), w.size(), false, true, opt, nullptr); },
                              errc::vr_mismatch, "strict VR mismatch");
}

void test_explicit_big() {
    current_test = "explicit VR big endian";
    writer w(false, false);
    std::vector<expected_element> want;
    simple_elements(w, want, false);
    read_options opt;
    std::uint64_t end = 0;
    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, false, opt, &end);
    check_elements(d, want, false, false, "explicit BE");
    CHECK_EQ(end, w.size());
    // The value bytes are left as written.
    if (d.elements.size() > 5) {
        const element& rows = d.elements[5];
        CHECK_EQ(rows.tag, 0x00280010u);
        CHECK_EQ(w.b[rows.value_offset], std::uint8_t{0x00});
        CHECK_EQ(w.b[rows.value_offset + 1], std::uint8_t{0x02});
    }
}

// A Part 10 file: preamble, 'DICM', meta group, then a dataset in the encoding
// the transfer syntax names, with a sequence and pixel data.
struct part10 {
    bytes b;
    std::size_t meta_end = 0;
    std::size_t pixel_header = 0;  // offset of the (7FE0,0010) tag
    std::size_t n_meta = 0;
};

part10 make_file(const std::string& syntax, bool implicit, bool little, bool preamble = true,
                 bool encapsulated = false) {
    part10 f;
    writer m(false, true);
    if (preamble) {
        m.fill(128, 0);
        m.raw("DICM");
    }
    std::string ts = syntax;
    if (ts.size() % 2) ts.push_back('\0');
    writer body(false, true);
    body.put(0x00020001u, "OB", std::string("\x00\x01", 2));
    body.put(0x00020002u, "UI", std::string("1.2.840.10008.5.1.4.1.1.7\0", 26));
    body.put(0x00020003u, "UI", "1.2.3.4.5.6.7.80");
    body.put(0x00020010u, "UI", ts);
    body.put(0x00020012u, "UI", std::string("1.2.3.999\0", 10));
    m.put(0x00020000u, "UL", std::string("\0\0\0\0", 4));
    m.patch_u32(m.size() - 4, static_cast<std::uint32_t>(body.size()));
    m.raw(std::string(body.b.begin(), body.b.end()));
    f.n_meta = 6;
    f.meta_end = m.size();

    writer d(implicit, little);
    d.put(0x00080005u, "CS", "ISO_IR 100");
    d.put(0x00080016u, "UI", std::string("1.2.840.10008.5.1.4.1.1.7\0", 26));
    d.put(0x00080018u, "UI", "1.2.3.4.5.6.7.80");
    d.put(0x00100010u, "PN", "Doe^Jane");
    d.header(0x00081140u, "SQ", undefined_length);
    d.item(undefined_length);
    d.put(0x00081150u, "UI", "1.2.3.44");
    d.put(0x00081155u, "UI", "1.2.3.4.5.6");
    d.item_end();
    const std::size_t item_at = d.item(0);
    d.put(0x00081150u, "UI", "1.2.3.44");
    d.patch_u32(item_at + 4, static_cast<std::uint32_t>(d.size() - item_at - 8));
    d.sequence_end();
    d.put(0x00280010u, "US", u16_value(2, little));
    d.put(0x00280011u, "US", u16_value(2, little));
    f.pixel_header = f.meta_end + d.size();
    if (encapsulated) {
        d.header(0x7FE00010u, "OB", undefined_length);
        d.item(0);
        d.item(6);
        d.raw("\x10\x20\x30\x40\x50\x60");
        d.sequence_end();
    } else {
        d.put(0x7FE00010u, "OW", std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    }
    d.put(0xFFFCFFFCu, "OB", std::string(4, '\0'));
    f.b = m.b;
    f.b.insert(f.b.end(), d.b.begin(), d.b.end());
    return f;
}

const std::vector<std::uint32_t> file_dataset_tags = {0x00080005u, 0x00080016u, 0x00080018u, 0x00100010u,
                                                      0x00081140u, 0x00081150u, 0x00081155u, 0x00081150u,
                                                      0x00280010u, 0x00280011u, 0x7FE00010u, 0xFFFCFFFCu};

void check_file_dataset(const file_index& f, std::size_t size, std::size_t n_tags, const std::string& where) {
    std::vector<std::uint32_t> tags;
    for (const element& e : f.dataset.elements) tags.push_back(e.tag);
    const std::vector<std::uint32_t> want(file_dataset_tags.begin(),
                                          file_dataset_tags.begin() + static_cast<std::ptrdiff_t>(n_tags));
    if (tags != want) {
        std::string got;
        for (std::uint32_t t : tags) got += hex(t) + " ";
        fail(where + ": dataset tags are " + got);
        return;
    }
    CHECK_EQ(f.dataset.items.size(), std::size_t{2});
    if (f.dataset.items.size() == 2) {
        CHECK_EQ(f.dataset.items[0].sequence, 4);
        CHECK(f.dataset.items[0].undefined_length);
        CHECK_EQ(f.dataset.items[1].sequence, 4);
        CHECK(!f.dataset.items[1].undefined_length);
        CHECK_EQ(f.dataset.elements[4].kind, value_kind::sequence);
        CHECK_EQ(f.dataset.elements[5].parent, 0);
        CHECK_EQ(f.dataset.elements[6].parent, 0);
        CHECK_EQ(f.dataset.elements[7].parent, 1);
        CHECK_EQ(f.dataset.elements[8].parent, -1);
    }
    const std::string p = file_problem(f, size);
    if (!p.empty()) fail(where + ": " + p);
}

void test_meta_and_transfer_syntax() {
    current_test = "File Meta Information and transfer syntax";
    struct syntax_case {
        const char* uid;
        bool implicit;
        bool little;
        bool encapsulated;
    };
    const syntax_case cases[] = {
        {"1.2.840.10008.1.2", true, true, false},
        {"1.2.840.10008.1.2.1", false, true, false},
        {"1.2.840.10008.1.2.2", false, false, false},
        {"1.2.840.10008.1.2.4.50", false, true, true},  // encapsulated: explicit VR LE
    };
    for (const syntax_case& c : cases) {
        const std::string where = c.uid;
        const part10 p = make_file(c.uid, c.implicit, c.little, true, c.encapsulated);
        read_options opt;
        const file_index f = parse::read_file(p.b.data(), p.b.size(), opt);
        CHECK(f.has_preamble);
        CHECK(f.has_transfer_syntax);
        CHECK_EQ(f.transfer_syntax, std::string(c.uid));
        CHECK_EQ(f.implicit, c.implicit);
        CHECK_EQ(f.little, c.little);
        CHECK(!f.deflated);
        CHECK(!f.meta_implicit);
        CHECK_EQ(f.meta.elements.size(), p.n_meta);
        for (const element& e : f.meta.elements) CHECK_EQ(e.tag >> 16, 0x0002u);
        CHECK(f.command.elements.empty());
        CHECK_EQ(f.dataset_offset, p.meta_end);
        CHECK_EQ(f.dataset.implicit, c.implicit);
        CHECK_EQ(f.end_offset, p.b.size());
        for (const element& e : f.dataset.elements) {
            if (e.implicit != c.implicit || e.little != c.little) {
                fail(where + ": element " + hex(e.tag) + " has the wrong encoding");
                break;
            }
        }
        CHECK(f.dataset.warnings.empty());
        check_file_dataset(f, p.b.size(), file_dataset_tags.size(), where);

        // With stop_before_pixels: everything before (7FE0,0010), and reading stops at its tag.
        opt.stop_before_pixels = true;
        const file_index s = parse::read_file(p.b.data(), p.b.size(), opt);
        check_file_dataset(s, p.b.size(), file_dataset_tags.size() - 2, where + " stop_before_pixels");
        CHECK_EQ(s.end_offset, p.pixel_header);
    }

    // Deflated: the meta group is read, the dataset is left for the caller to inflate.
    {
        const part10 p = make_file("1.2.840.10008.1.2.1.99", false, true);
        const file_index f = parse::read_file(p.b.data(), p.b.size(), read_options{});
        CHECK(f.deflated);
        CHECK_EQ(f.transfer_syntax, std::string("1.2.840.10008.1.2.1.99"));
        CHECK_EQ(f.dataset_offset, p.meta_end);
        CHECK(f.dataset.elements.empty());
        CHECK_EQ(f.meta.elements.size(), p.n_meta);
    }
}

void test_not_dicom_and_force() {
    current_test = "missing DICM and force";
    const part10 p = make_file("1.2.840.10008.1.2.1", false, true, false);  // no preamble
    read_options opt;
    expect_error<core::error>([&] { parse::read_file(p.b.data(), p.b.size(), opt); }, errc::not_dicom, "no preamble");
    bytes wrong(200, 0);
    std::memcpy(wrong.data() + 128, "DICN", 4);
    try {
        parse::read_file(wrong.data(), wrong.size(), opt);
        fail("'DICN' accepted as 'DICM'");
    } catch (const core::error& e) {
        CHECK_EQ(e.code(), errc::not_dicom);
        CHECK_EQ(e.offset(), std::uint64_t{128});
    }
    const bytes tiny = {'D', 'I', 'C', 'M'};
    expect_error<core::error>([&] { parse::read_file(tiny.data(), tiny.size(), opt); }, errc::not_dicom, "4 bytes");
    expect_error<core::error>([&] { parse::read_file(tiny.data(), 0, opt); }, errc::not_dicom, "empty");

    opt.force = true;
    // Forced: the meta group is read where the file starts.
    const file_index f = parse::read_file(p.b.data(), p.b.size(), opt);
    CHECK(!f.has_preamble);
    CHECK(f.has_transfer_syntax);
    CHECK(!f.implicit);
    CHECK_EQ(f.meta.elements.size(), p.n_meta);
    check_file_dataset(f, p.b.size(), file_dataset_tags.size(), "forced, meta without preamble");

    // Forced, no meta group: the encoding is guessed from the first element.
    struct guess_case {
        bool implicit;
        bool little;
    };
    for (const guess_case c : {guess_case{true, true}, guess_case{false, true}, guess_case{false, false}}) {
        writer w(c.implicit, c.little);
        std::vector<expected_element> want;
        simple_elements(w, want, c.implicit);
        const file_index g = parse::read_file(w.b.data(), w.size(), opt);
        const std::string where = std::string("forced bare dataset, ") + (c.implicit ? "implicit" : "explicit") +
                                  (c.little ? " LE" : " BE");
        CHECK(!g.has_preamble);
        CHECK(!g.has_transfer_syntax);
        CHECK(g.meta.elements.empty());
        CHECK_EQ(g.implicit, c.implicit);
        CHECK_EQ(g.little, c.little);
        check_elements(g.dataset, want, c.implicit, c.little, where);
    }
}

void test_sequences() {
    current_test = "sequences and items";
    writer w(false, true);
    std::vector<expected_element> want;
    std::size_t at = w.put(0x00080005u, "CS", "ISO_IR 100");
    want.push_back({0x00080005u, "CS", 10, at, 10, value_kind::bytes, -1});
    at = w.header(0x00081140u, "SQ", undefined_length);  // element 1
    want.push_back({0x00081140u, "SQ", undefined_length, at, 0, value_kind::sequence, -1});
    const std::size_t item0 = w.item(undefined_length);
    at = w.put(0x00081150u, "UI", "1.2.3.44");
    want.push_back({0x00081150u, "UI", 8, at, 8, value_kind::bytes, 0});
    at = w.put(0x00081155u, "UI", "1.2.3.4.5.66");
    want.push_back({0x00081155u, "UI", 12, at, 12, value_kind::bytes, 0});
    at = w.header(0x0040A730u, "SQ", undefined_length);  // element 4, nested in item 0
    want.push_back({0x0040A730u, "SQ", undefined_length, at, 0, value_kind::sequence, 0});
    const std::size_t item1 = w.item(0);
    at = w.put(0x0040A010u, "CS", "CONTAINS");
    want.push_back({0x0040A010u, "CS", 8, at, 8, value_kind::bytes, 1});
    w.patch_u32(item1 + 4, static_cast<std::uint32_t>(w.size() - item1 - 8));
    w.sequence_end();
    w.item_end();
    const std::size_t item2 = w.item(0);  // defined length
    at = w.put(0x00081150u, "UI", "1.2.3.55");
    want.push_back({0x00081150u, "UI", 8, at, 8, value_kind::bytes, 2});
    at = w.put(0x00081155u, "UI", "1.2.3.5.5.66");
    want.push_back({0x00081155u, "UI", 12, at, 12, value_kind::bytes, 2});
    w.patch_u32(item2 + 4, static_cast<std::uint32_t>(w.size() - item2 - 8));
    w.sequence_end();
    // An empty undefined-length sequence.
    at = w.header(0x00081115u, "SQ", undefined_length);  // element 8
    want.push_back({0x00081115u, "SQ", undefined_length, at, 0, value_kind::sequence, -1});
    w.sequence_end();
    // A defined-length sequence is kept as bytes, read later with read_sequence_value.
    writer inner(false, true);
    const std::size_t inner_item = inner.item(0);
    inner.put(0x00081150u, "UI", "9.8.7.66");
    inner.patch_u32(inner_item + 4, static_cast<std::uint32_t>(inner.size() - 8));
    const std::string inner_value(inner.b.begin(), inner.b.end());
    at = w.put(0x00081120u, "SQ", inner_value);  // element 9
    want.push_back({0x00081120u, "SQ", static_cast<std::uint32_t>(inner_value.size()), at, inner_value.size(),
                    value_kind::bytes, -1});
    at = w.put(0x00100010u, "PN", "Doe^John");
    want.push_back({0x00100010u, "PN", 8, at, 8, value_kind::bytes, -1});

    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, true, read_options{}, nullptr);
    check_elements(d, want, false, true, "explicit sequences");
    CHECK_EQ(d.items.size(), std::size_t{3});
    if (d.items.size() == 3) {
        CHECK_EQ(d.items[0].sequence, 1);
        CHECK_EQ(d.items[0].item_tell, item0);
        CHECK(d.items[0].undefined_length);
        CHECK_EQ(d.items[1].sequence, 4);
        CHECK_EQ(d.items[1].item_tell, item1);
        CHECK(!d.items[1].undefined_length);
        CHECK_EQ(d.items[2].sequence, 1);
        CHECK_EQ(d.items[2].item_tell, item2);
        CHECK(!d.items[2].undefined_length);
        for (const parse::item& it : d.items) CHECK(!it.implicit && it.little);
    }
    if (d.elements.size() > 8) {
        CHECK_EQ(d.elements[1].charset, 0);
        CHECK_EQ(d.elements[8].charset, 0);
    }
    CHECK_EQ(index_problem(d, w.size(), false), std::string());

    // The defined-length sequence, read on its own.
    if (d.elements.size() > 9) {
        const element& sq = d.elements[9];
        const bytes value(w.b.begin() + static_cast<std::ptrdiff_t>(sq.value_offset),
                          w.b.begin() + static_cast<std::ptrdiff_t>(sq.value_offset + sq.value_size));
        const dataset_index s =
            parse::read_sequence_value(value.data(), value.size(), false, true, sq.value_tell, read_options{});
        CHECK_EQ(s.items.size(), std::size_t{1});
        CHECK_EQ(s.elements.size(), std::size_t{1});
        if (s.elements.size() == 1 && s.items.size() == 1) {
            CHECK_EQ(s.items[0].sequence, -1);
            CHECK_EQ(s.elements[0].tag, 0x00081150u);
            CHECK_EQ(s.elements[0].parent, 0);
            CHECK_EQ(s.elements[0].value_size, std::uint64_t{8});
            CHECK(s.elements[0].value_offset + 8 <= value.size() &&
                  std::memcmp(value.data() + s.elements[0].value_offset, "9.8.7.66", 8) == 0);
        }
        CHECK_EQ(index_problem(s, value.size(), true), std::string());
    }
}

// A Specific Character Set whose VR is not a VR cannot be decoded (pydicom's
// NotImplementedError): reading stops with core::error, whichever entry point.
void test_unknown_charset_vr() {
    current_test = "Specific Character Set with an unknown VR";
    writer item(false, true);
    const std::size_t at = item.item(0);
    item.put(0x00080005u, "QQ", "AB");
    item.put(0x00100010u, "PN", "Doe^John");
    item.patch_u32(at + 4, static_cast<std::uint32_t>(item.size() - 8));

    // The value of a defined-length sequence, read lazily.
    expect_error<core::error>([&] {
        parse::read_sequence_value(item.b.data(), item.size(), false, true, 0, read_options{});
    }, errc::unknown_vr, "read_sequence_value");

    // The same item inside a defined-length sequence of a file, read lazily as
    // the bindings do: again core::error, never another exception.
    writer w(false, true);
    w.put(0x00080016u, "UI", "1.2.3.44");
    const std::string value(item.b.begin(), item.b.end());
    w.put(0x00081140u, "SQ", value);
    returns_or_raises("read_dataset", [&] {
        const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, true, read_options{}, nullptr);
        for (const element& e : d.elements) {
            if (e.tag != 0x00081140u || e.kind != value_kind::bytes) continue;
            const bytes v(w.b.begin() + static_cast<std::ptrdiff_t>(e.value_offset),
                          w.b.begin() + static_cast<std::ptrdiff_t>(e.value_offset + e.value_size));
            returns_or_raises("read_sequence_value of (0008,1140)", [&] {
                parse::read_sequence_value(v.data(), v.size(), e.implicit, e.little, e.value_tell, read_options{});
            });
        }
    });

    // At the top level of a bare dataset.
    writer top(false, true);
    top.put(0x00080005u, "QQ", "AB");
    top.put(0x00100010u, "PN", "Doe^John");
    expect_error<core::error>([&] {
        parse::read_dataset(top.b.data(), top.size(), false, true, read_options{}, nullptr);
    }, errc::unknown_vr, "read_dataset");
}

void test_implicit_sequences() {
    current_test = "implicit VR sequences";
    writer w(true, true);
    w.put(0x00080016u, "UI", "1.2.3.44");
    w.header(0x00081140u, "SQ", undefined_length);  // SQ by the dictionary
    w.item(undefined_length);
    w.put(0x00081150u, "UI", "1.2.3.44");
    w.item_end();
    w.sequence_end();
    w.header(0x00091001u, "UN", undefined_length);  // private: SQ because an item follows
    w.item(undefined_length);
    w.put(0x00100020u, "LO", "ID42");
    w.item_end();
    w.sequence_end();
    const std::size_t blob = w.header(0x00091002u, "UN", undefined_length);  // private, no item: bytes
    w.raw("abcdefgh");
    w.sequence_end();
    w.put(0x00100010u, "PN", "Doe^John");

    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), true, true, read_options{}, nullptr);
    CHECK_EQ(d.elements.size(), std::size_t{7});
    CHECK_EQ(d.items.size(), std::size_t{2});
    if (d.elements.size() == 7 && d.items.size() == 2) {
        const element& sq = d.elements[1];
        CHECK_EQ(sq.kind, value_kind::sequence);
        CHECK(sq.has_vr && sq.vr == vr_code('S', 'Q'));
        CHECK(sq.dictionary_vr != nullptr && std::strcmp(sq.dictionary_vr, "SQ") == 0);
        CHECK_EQ(d.elements[2].parent, 0);
        CHECK(!d.elements[2].has_vr);
        const element& priv = d.elements[3];
        CHECK_EQ(priv.tag, 0x00091001u);
        CHECK_EQ(priv.kind, value_kind::sequence);
        CHECK(priv.has_vr && priv.vr == vr_code('S', 'Q'));
        CHECK_EQ(d.elements[4].parent, 1);
        CHECK_EQ(d.items[1].sequence, 3);
        CHECK(d.items[0].implicit && d.items[1].implicit);
        const element& b = d.elements[5];
        CHECK_EQ(b.tag, 0x00091002u);
        CHECK_EQ(b.kind, value_kind::bytes);
        CHECK_EQ(b.length, undefined_length);
        CHECK_EQ(b.value_offset, blob);
        CHECK_EQ(b.value_size, std::uint64_t{8});
        CHECK_EQ(d.elements[6].tag, 0x00100010u);
        CHECK_EQ(d.elements[6].parent, -1);
    }

    // Explicit VR: UN of undefined length is a sequence whose items are implicit VR (PS3.5 6.2.2).
    writer x(false, true);
    x.put(0x00080016u, "UI", "1.2.3.44");
    x.header(0x00191001u, "UN", undefined_length);
    x.item(undefined_length);
    {
        writer imp(true, true);
        imp.put(0x00100020u, "LO", "ID42");
        x.raw(std::string(imp.b.begin(), imp.b.end()));
    }
    x.item_end();
    x.sequence_end();
    x.put(0x00100010u, "PN", "Doe^John");
    const dataset_index u = parse::read_dataset(x.b.data(), x.size(), false, true, read_options{}, nullptr);
    CHECK_EQ(u.elements.size(), std::size_t{4});
    CHECK_EQ(u.items.size(), std::size_t{1});
    if (u.elements.size() == 4 && u.items.size() == 1) {
        CHECK_EQ(u.elements[1].kind, value_kind::sequence);
        CHECK(u.elements[1].vr == vr_code('S', 'Q'));
        CHECK(u.items[0].implicit);
        CHECK_EQ(u.elements[2].tag, 0x00100020u);
        CHECK(!u.elements[2].has_vr);
        CHECK_EQ(u.elements[2].parent, 0);
        CHECK_EQ(u.elements[3].tag, 0x00100010u);
    }
}

// `depth` undefined-length sequences, each in an item of the one before.
bytes nested(std::size_t depth) {
    writer w(false, true);
    w.put(0x00080016u, "UI", "1.2.3.44");
    for (std::size_t i = 0; i < depth; ++i) {
        w.header(0x0040A730u, "SQ", undefined_length);
        w.item(undefined_length);
    }
    w.put(0x0040A010u, "CS", "CONTAINS");
    for (std::size_t i = 0; i < depth; ++i) {
        w.item_end();
        w.sequence_end();
    }
    w.put(0x00100010u, "PN", "Doe^John");
    return w.b;
}

void test_depth_limit() {
    current_test = "nesting depth limit";
    const bytes ok = nested(200);
    const dataset_index d = parse::read_dataset(ok.data(), ok.size(), false, true, read_options{}, nullptr);
    CHECK_EQ(d.elements.size(), std::size_t{203});
    CHECK_EQ(d.items.size(), std::size_t{200});
    if (d.elements.size() == 203) {
        CHECK_EQ(d.elements[201].parent, 199);
        CHECK_EQ(d.elements[202].parent, -1);
    }
    for (std::size_t depth : {std::size_t{201}, std::size_t{300}}) {
        const bytes deep = nested(depth);
        expect_error<core::error>(
            [&] { parse::read_dataset(deep.data(), deep.size(), false, true, read_options{}, nullptr); },
            errc::depth_exceeded, std::to_string(depth) + " deep");
    }
    // The limit is an option.
    read_options opt;
    opt.lim.max_depth = 10;
    const bytes eleven = nested(11);
    expect_error<core::error>([&] { parse::read_dataset(eleven.data(), eleven.size(), false, true, opt, nullptr); },
                              errc::depth_exceeded, "11 deep, limit 10");
}

void test_encapsulated_pixel_data() {
    current_test = "encapsulated pixel data";
    for (const bool implicit : {false, true}) {
        writer w(implicit, true);
        w.put(0x00280010u, "US", u16_value(2));
        const std::size_t value = w.header(0x7FE00010u, "OB", undefined_length);
        w.item(0);  // empty Basic Offset Table
        w.item(6);
        w.raw("\x10\x20\x30\x40\x50\x60");
        w.item(4);
        w.raw("\x70\x80\x90\xA0");
        const std::size_t items_end = w.size();
        w.sequence_end();
        const std::size_t padding = w.put(0xFFFCFFFCu, "OB", std::string(4, '\0'));

        const std::string where = implicit ? "implicit" : "explicit";
        const dataset_index d = parse::read_dataset(w.b.data(), w.size(), implicit, true, read_options{}, nullptr);
        CHECK_EQ(d.elements.size(), std::size_t{3});
        CHECK(d.items.empty());
        if (d.elements.size() == 3) {
            const element& px = d.elements[1];
            CHECK_EQ(px.tag, 0x7FE00010u);
            CHECK_EQ(px.kind, value_kind::bytes);
            CHECK_EQ(px.length, undefined_length);
            CHECK_EQ(px.value_tell, value);
            CHECK_EQ(px.value_offset, value);
            CHECK_EQ(px.value_size, items_end - value);
            if (implicit) {
                CHECK(px.dictionary_vr != nullptr && std::strcmp(px.dictionary_vr, "OB or OW") == 0);
            } else {
                CHECK(px.has_vr && px.vr == vr_code('O', 'B'));
            }
            CHECK_EQ(d.elements[2].tag, 0xFFFCFFFCu);
            CHECK_EQ(d.elements[2].value_offset, padding);
        }

        // Deferred when larger than defer_size.
        read_options opt;
        opt.defer_size = 16;
        const dataset_index f = parse::read_dataset(w.b.data(), w.size(), implicit, true, opt, nullptr);
        CHECK_EQ(f.elements.size(), std::size_t{3});
        if (f.elements.size() == 3) {
            CHECK_EQ(f.elements[1].kind, value_kind::deferred);
            CHECK_EQ(f.elements[0].kind, value_kind::bytes);
            CHECK_EQ(f.elements[2].tag, 0xFFFCFFFCu);
        }

        // stop_before_pixels: nothing from (7FE0,0010) on.
        opt = read_options{};
        opt.stop_before_pixels = true;
        std::uint64_t end = 0;
        const dataset_index s = parse::read_dataset(w.b.data(), w.size(), implicit, true, opt, &end);
        CHECK_EQ(s.elements.size(), std::size_t{1});
        CHECK_EQ(end, value - (implicit ? 8 : 12));
    }

    // An undefined-length value that is not items: up to the sequence delimiter.
    writer w(false, true);
    const std::size_t value = w.header(0x00091010u, "OB", undefined_length);
    w.raw("not items at all");
    w.sequence_end();
    w.put(0x00100010u, "PN", "Doe^John");
    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, true, read_options{}, nullptr);
    CHECK_EQ(d.elements.size(), std::size_t{2});
    if (d.elements.size() == 2) {
        CHECK_EQ(d.elements[0].value_offset, value);
        CHECK_EQ(d.elements[0].value_size, std::uint64_t{16});
        CHECK_EQ(d.elements[1].tag, 0x00100010u);
    }
}

void test_value_past_end() {
    current_test = "value past the end";
    writer w(false, true);
    w.put(0x00080016u, "UI", "1.2.3.44");
    const std::size_t at = w.header(0x00100010u, "LO", 100);
    w.raw("0123456789");
    const dataset_index d = parse::read_dataset(w.b.data(), w.size(), false, true, read_options{}, nullptr);
    CHECK_EQ(d.elements.size(), std::size_t{2});
    if (d.elements.size() == 2) {
        CHECK_EQ(d.elements[1].length, 100u);
        CHECK_EQ(d.elements[1].value_offset, at);
        CHECK_EQ(d.elements[1].value_size, std::uint64_t{10});
    }

    writer o(false, true);
    const std::size_t ob = o.header(0x7FE00010u, "OW", 1000);
    o.raw("abc");
    const part10 p = make_file("1.2.840.10008.1.2.1", false, true);
    bytes file(p.b.begin(), p.b.begin() + static_cast<std::ptrdiff_t>(p.pixel_header));
    file.insert(file.end(), o.b.begin(), o.b.end());
    const file_index f = parse::read_file(file.data(), file.size(), read_options{});
    CHECK(!f.dataset.elements.empty());
    if (!f.dataset.elements.empty()) {
        const element& px = f.dataset.elements.back();
        CHECK_EQ(px.tag, 0x7FE00010u);
        CHECK_EQ(px.length, 1000u);
        CHECK_EQ(px.value_offset, p.pixel_header + ob);
        CHECK_EQ(px.value_size, std::uint64_t{3});
    }
    CHECK_EQ(f.end_offset, file.size());
}

// Parses `b` with read_file and read_dataset under `opt` while tracking allocations.
void parse_tracked(const bytes& b, const read_options& opt, const std::string& what) {
    set_case(what);
    largest_allocation = 0;
    tracking = true;
    returns_or_raises(what + " (read_file)", [&] { parse::read_file(b.data(), b.size(), opt); });
    for (const bool implicit : {false, true}) {
        for (const bool little : {false, true}) {
            returns_or_raises(what + " (read_dataset)",
                              [&] { parse::read_dataset(b.data(), b.size(), implicit, little, opt, nullptr); });
            returns_or_raises(what + " (read_sequence_value)", [&] {
                parse::read_sequence_value(b.data(), b.size(), implicit, little, 0, opt);
            });
        }
    }
    tracking = false;
    if (largest_allocation > 64 * 1024) {
        fail(what + ": allocated " + std::to_string(largest_allocation) + " bytes at once for a " +
             std::to_string(b.size()) + "-byte input");
    }
}

void test_huge_lengths() {
    current_test = "huge lengths";
    constexpr std::uint32_t huge = 0xFFFFFFFEu;
    auto pad_to_1k = [](writer& w) {
        if (w.size() < 1024) w.fill(1024 - w.size(), 0x41);
        w.b.resize(1024);
        return w.b;
    };
    std::vector<std::pair<std::string, bytes>> inputs;
    {
        writer w(false, true);
        w.put(0x00080016u, "UI", "1.2.3.44");
        w.header(0x00191010u, "OB", huge);
        inputs.emplace_back("explicit OB", pad_to_1k(w));
    }
    {
        writer w(true, true);
        w.put(0x00080016u, "UI", "1.2.3.44");
        w.header(0x00100010u, "PN", huge);
        inputs.emplace_back("implicit PN", pad_to_1k(w));
    }
    {
        writer w(false, true);
        w.header(0x00081140u, "SQ", undefined_length);
        w.item(huge);
        w.put(0x00081150u, "UI", "1.2.3.44");
        inputs.emplace_back("item", pad_to_1k(w));
    }
    {
        writer w(false, true);
        w.header(0x00081140u, "SQ", huge);
        w.item(huge);
        inputs.emplace_back("defined-length sequence", pad_to_1k(w));
    }
    {
        writer w(false, true);
        w.header(0x7FE00010u, "OB", undefined_length);
        w.item(0);
        w.item(huge);
        inputs.emplace_back("pixel data fragment", pad_to_1k(w));
    }
    {
        writer w(false, false);
        w.put(0x00080016u, "UI", "1.2.3.44");
        w.header(0x00191010u, "UT", huge);
        inputs.emplace_back("big endian UT", pad_to_1k(w));
    }
    {
        part10 p = make_file("1.2.840.10008.1.2.1", false, true);
        writer w(false, true);
        w.header(0x00020010u, "UI", 0xFFFF);
        bytes b(p.b.begin(), p.b.begin() + 132);
        b.insert(b.end(), w.b.begin(), w.b.end());
        b.resize(1024, 'A');
        inputs.emplace_back("meta group", b);
    }
    for (std::uint32_t fill : {0x00u, 0x41u, 0xFEu, 0xFFu}) {
        inputs.emplace_back("1 KB of " + hex(fill), bytes(1024, static_cast<std::uint8_t>(fill)));
    }
    {
        bytes b(1024, 0xFF);
        std::memcpy(b.data() + 128, "DICM", 4);
        inputs.emplace_back("DICM then 0xFF", b);
    }
    for (const auto& [name, b] : inputs) {
        read_options opt;
        opt.force = true;
        parse_tracked(b, opt, name);
        opt.defer_size = 64;
        parse_tracked(b, opt, name + ", defer_size 64");
        opt.defer_size = -1;
        opt.has_specific_tags = true;
        opt.specific_tags = {0x00100010u};
        parse_tracked(b, opt, name + ", specific tags");
        opt.has_specific_tags = false;
        opt.stop_before_pixels = true;
        parse_tracked(b, opt, name + ", stop_before_pixels");
    }
    set_case("");
}

// Every prefix of `full`, each in an allocation of exactly its size (so that the
// sanitizer sees any read past the end), parsed by read_file with `opt`.
void truncate_everywhere(const bytes& full, const read_options& opt, const std::string& what) {
    std::size_t returned = 0;
    for (std::size_t n = 0; n <= full.size(); ++n) {
        const std::string c = what + ", first " + std::to_string(n) + " bytes";
        set_case(c);
        const bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        file_index f;
        if (returns_or_raises(c, [&] { f = parse::read_file(b.data(), b.size(), opt); })) {
            ++returned;
            const std::string p = file_problem(f, b.size());
            if (!p.empty()) fail(c + ": " + p);
        }
    }
    set_case("");
    if (returned == 0) fail(what + ": no prefix parsed at all");
}

void test_truncation() {
    current_test = "truncation at every offset";
    struct file_case {
        const char* uid;
        bool implicit;
        bool little;
        bool encapsulated;
    };
    const file_case cases[] = {
        {"1.2.840.10008.1.2", true, true, false},
        {"1.2.840.10008.1.2.1", false, true, false},
        {"1.2.840.10008.1.2.2", false, false, false},
        {"1.2.840.10008.1.2.4.50", false, true, true},
    };
    for (const file_case& c : cases) {
        const part10 p = make_file(c.uid, c.implicit, c.little, true, c.encapsulated);
        read_options opt;
        truncate_everywhere(p.b, opt, c.uid);
        opt.stop_before_pixels = true;
        opt.defer_size = 4;
        truncate_everywhere(p.b, opt, std::string(c.uid) + " stop_before_pixels defer_size 4");
        read_options forced;
        forced.force = true;
        truncate_everywhere(bytes(p.b.begin() + 132, p.b.end()), forced, std::string(c.uid) + " forced, no preamble");
    }
    const bytes deep = nested(40);
    truncate_everywhere(deep, [] {
        read_options o;
        o.force = true;
        return o;
    }(), "nested sequences");
}

// ---------------------------------------------------------------------------
// The corpus

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

struct corpus_stats {
    std::size_t files = 0;
    std::size_t parses = 0;
    std::size_t errors = 0;
    std::size_t sequence_values = 0;
};

bool is_sequence_element(const element& e) {
    if (e.kind != value_kind::bytes || e.value_size == 0) return false;
    if (e.has_vr) return e.vr == vr_code('S', 'Q');
    const core::dict_entry* d = core::dictionary_lookup(e.tag);
    return d != nullptr && std::strcmp(d->vr, "SQ") == 0;
}

// Parses `b` (its whole allocation) with `opt`, checks the index, and reads up
// to 16 of its defined-length sequences as read_sequence_value would be called.
void parse_checked(const bytes& b, const read_options& opt, const std::string& what, corpus_stats& stats) {
    set_case(what);
    ++stats.parses;
    file_index f;
    const std::size_t budget = 32 * b.size() + (1u << 20);
    largest_allocation = 0;
    tracking = true;
    const bool ok = returns_or_raises(what, [&] { f = parse::read_file(b.data(), b.size(), opt); });
    tracking = false;
    if (largest_allocation > budget) {
        fail(what + ": allocated " + std::to_string(largest_allocation) + " bytes at once for a " +
             std::to_string(b.size()) + "-byte input");
    }
    if (!ok) {
        ++stats.errors;
        return;
    }
    const std::string p = file_problem(f, b.size());
    if (!p.empty()) {
        fail(what + ": " + p);
        return;
    }
    std::size_t sequences = 0;
    for (const element& e : f.dataset.elements) {
        if (!is_sequence_element(e) || sequences == 16) continue;
        ++sequences;
        ++stats.sequence_values;
        const std::string c = what + ", sequence " + hex(e.tag) + " at " + std::to_string(e.value_offset);
        set_case(c);
        const bytes value(b.begin() + static_cast<std::ptrdiff_t>(e.value_offset),
                          b.begin() + static_cast<std::ptrdiff_t>(e.value_offset + e.value_size));
        dataset_index s;
        if (returns_or_raises(c, [&] {
                s = parse::read_sequence_value(value.data(), value.size(), e.implicit, e.little, e.value_tell, opt);
            })) {
            const std::string q = index_problem(s, value.size(), true);
            if (!q.empty()) fail(c + ": " + q);
        }
    }
}

read_options variant_options(std::size_t i) {
    read_options o;
    o.force = true;
    switch (i % 4) {
        case 1: o.stop_before_pixels = true; break;
        case 2: o.defer_size = 256; break;
        case 3:
            o.has_specific_tags = true;
            o.specific_tags = {0x00080016u, 0x00100010u, 0x00280010u, 0x7FE00010u};
            break;
        default: break;
    }
    return o;
}

void test_corpus() {
    current_test = "corpus";
    namespace fs = std::filesystem;
    const fs::path root = "../shared/corpus";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        std::printf("corpus: %s not found, skipping the corpus tests\n", root.string().c_str());
        return;
    }
    std::vector<fs::path> files;
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".dcm") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        fail("no .dcm files under " + root.string());
        return;
    }

    corpus_stats stats;
    std::vector<std::string> rejected;
    const auto start = std::chrono::steady_clock::now();
    for (const fs::path& path : files) {
        std::ifstream in(path, std::ios::binary);
        const bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            fail("cannot read " + path.string());
            continue;
        }
        ++stats.files;
        const std::string name = path.string();
        const std::uint64_t seed = fnv1a(path.lexically_relative(root).generic_string());
        std::mt19937_64 rng(seed);

        // As it is, not forced and forced.
        set_case(name);
        try {
            parse::read_file(data.data(), data.size(), read_options{});
        } catch (const core::error& e) {
            rejected.push_back(path.lexically_relative(root).generic_string() + ": " + e.what());
        } catch (const std::exception& e) {
            fail(name + ": unexpected exception " + e.what());
        }
        parse_checked(data, variant_options(0), name + " (forced)", stats);

        // Where the header ends: most truncations and flips go there, not into pixel data.
        std::size_t head = std::min<std::size_t>(data.size(), 16384);
        {
            read_options o;
            o.force = true;
            o.stop_before_pixels = true;
            try {
                const file_index f = parse::read_file(data.data(), data.size(), o);
                head = std::min<std::size_t>(data.size(), std::max<std::size_t>(f.end_offset + 64, 256));
            } catch (const core::error&) {
            }
        }

        // 64 truncations: 48 in the header, 16 anywhere.
        for (std::size_t i = 0; i < 64; ++i) {
            const std::size_t limit = i < 48 ? head : data.size();
            const std::size_t n = limit == 0 ? 0 : static_cast<std::size_t>(rng() % (limit + 1));
            const bytes cut(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
            parse_checked(cut, variant_options(i), name + " truncated to " + std::to_string(n) + " bytes (seed " +
                                                       hex(seed) + ", variant " + std::to_string(i) + ")",
                          stats);
        }

        // 64 byte flips, one at a time, in one exact-size copy: 56 in the header, 8 anywhere;
        // every 8th writes 0xFF over four bytes (a huge length) instead.
        if (data.empty()) continue;
        bytes flipped = data;
        for (std::size_t i = 0; i < 64; ++i) {
            const std::size_t limit = i < 56 ? std::max<std::size_t>(head, 1) : data.size();
            const std::size_t at = static_cast<std::size_t>(rng() % limit);
            const std::uint8_t x = static_cast<std::uint8_t>(1 + rng() % 255);
            const std::size_t span = i % 8 == 7 ? std::min<std::size_t>(4, data.size() - at) : 1;
            for (std::size_t k = 0; k < span; ++k) flipped[at + k] = span == 1 ? flipped[at + k] ^ x : 0xFF;
            parse_checked(flipped, variant_options(i),
                          name + (span == 1 ? " byte " + std::to_string(at) + " ^= " + hex(x)
                                            : " bytes " + std::to_string(at) + "..+4 = 0xFF") +
                              " (seed " + hex(seed) + ", variant " + std::to_string(i) + ")",
                          stats);
            for (std::size_t k = 0; k < span; ++k) flipped[at + k] = data[at + k];
        }
    }
    set_case("");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("corpus: %zu files, %zu parses (%zu raised core::error), %zu sequence values, %.1f s\n",
                stats.files, stats.parses, stats.errors, stats.sequence_values, seconds);
    std::printf("corpus: %zu files rejected when read as they are (not forced):\n", rejected.size());
    for (const std::string& r : rejected) std::printf("  %s\n", r.c_str());
}

}  // namespace

int main() {
#if defined(PARSER_TEST_ASAN)
    __sanitizer_set_death_callback(print_current_case);
#else
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_fatal_signal);
#endif
    turbodicom::test::run({
        test_explicit_little, test_implicit_little,   test_explicit_big,   test_meta_and_transfer_syntax,
        test_not_dicom_and_force, test_sequences,     test_implicit_sequences, test_unknown_charset_vr,
        test_depth_limit,
        test_encapsulated_pixel_data, test_value_past_end, test_huge_lengths, test_truncation,
        test_corpus,
    });
    return turbodicom::test::exit_code("parser_test");
}
