// Tests of the generated DICOM data dictionary and its lookup.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "core/dictionary.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

#include "core/test_support.hpp"

namespace turbodicom::core {
namespace expected {
// The same generated tables, compiled a second time here so that every entry
// can be checked against what dictionary_lookup returns.
#include "core/dictionary_data.inc"
}  // namespace expected
}  // namespace turbodicom::core

namespace {

using turbodicom::core::dict_entry;
using turbodicom::core::dictionary_lookup;
using turbodicom::core::dictionary_vr;
namespace expected = turbodicom::core::expected;

void fail(const char* what, std::uint32_t tag, const char* detail) {
    char tag_text[16];
    std::snprintf(tag_text, sizeof tag_text, "(%04X,%04X)", static_cast<unsigned>(tag >> 16),
                  static_cast<unsigned>(tag & 0xFFFFu));
    turbodicom::test::fail(std::string(tag_text) + " " + what + ": " + detail);
}

constexpr std::uint16_t vr2(const char* vr) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(vr[0]) << 8) |
                                      static_cast<unsigned char>(vr[1]));
}

bool same(const dict_entry& a, const dict_entry& b) {
    return a.tag == b.tag && a.mask == b.mask && std::strcmp(a.vr, b.vr) == 0 &&
           std::strcmp(a.vm, b.vm) == 0 && std::strcmp(a.keyword, b.keyword) == 0 &&
           a.retired == b.retired;
}

// Checks that `tag` is found with the given VR/VM/keyword/retired/mask.
void expect_entry(std::uint32_t tag, const char* vr, const char* vm, const char* keyword,
                  bool retired, std::uint32_t mask) {
    const dict_entry* e = dictionary_lookup(tag);
    if (e == nullptr) {
        fail("lookup", tag, "not found");
        return;
    }
    char buf[256];
    if (std::strcmp(e->vr, vr) != 0) {
        std::snprintf(buf, sizeof buf, "VR is \"%s\", expected \"%s\"", e->vr, vr);
        fail("lookup", tag, buf);
    }
    if (std::strcmp(e->vm, vm) != 0) {
        std::snprintf(buf, sizeof buf, "VM is \"%s\", expected \"%s\"", e->vm, vm);
        fail("lookup", tag, buf);
    }
    if (std::strcmp(e->keyword, keyword) != 0) {
        std::snprintf(buf, sizeof buf, "keyword is \"%s\", expected \"%s\"", e->keyword, keyword);
        fail("lookup", tag, buf);
    }
    if (e->retired != retired) fail("lookup", tag, "wrong retired flag");
    if (e->mask != mask) {
        std::snprintf(buf, sizeof buf, "mask is %08X, expected %08X", static_cast<unsigned>(e->mask),
                      static_cast<unsigned>(mask));
        fail("lookup", tag, buf);
    }
    if (dictionary_vr(tag) != vr2(vr)) fail("dictionary_vr", tag, "wrong packed VR");
}

void expect_missing(std::uint32_t tag) {
    if (dictionary_lookup(tag) != nullptr) fail("lookup", tag, "found, expected nullptr");
    if (dictionary_vr(tag) != 0) fail("dictionary_vr", tag, "non-zero, expected 0");
}

void check_known_entries() {
    constexpr std::uint32_t exact = 0xFFFFFFFFu;
    expect_entry(0x00100010u, "PN", "1", "PatientName", false, exact);
    expect_entry(0x7FE00010u, "OB or OW", "1", "PixelData", false, exact);
    expect_entry(0x00080005u, "CS", "1-n", "SpecificCharacterSet", false, exact);
    expect_entry(0x00020010u, "UI", "1", "TransferSyntaxUID", false, exact);
    expect_entry(0xFFFEE000u, "NONE", "1", "Item", false, exact);

    // Repeating groups: overlay data (60xx,3000) in several even groups.
    expect_entry(0x60003000u, "OB or OW", "1", "OverlayData", false, 0xFF00FFFFu);
    expect_entry(0x60023000u, "OB or OW", "1", "OverlayData", false, 0xFF00FFFFu);
    expect_entry(0x601E3000u, "OB or OW", "1", "OverlayData", false, 0xFF00FFFFu);
    expect_entry(0x60000010u, "US", "1", "OverlayRows", false, 0xFF00FFFFu);
    // Curves (50xx,....), retired.
    expect_entry(0x50000010u, "US", "1", "NumberOfPoints", true, 0xFF00FFFFu);
    expect_entry(0x50023000u, "OB or OW", "1", "CurveData", true, 0xFF00FFFFu);
    // A repeater whose masked digits are in the element: (1000,xxx0).
    expect_entry(0x10000120u, "US", "3", "EscapeTriplet", true, 0xFFFF000Fu);
    // (7Fxx,0010) is a repeater, but (7FE0,0010) has an exact entry that wins.
    expect_entry(0x7F020010u, "OB or OW", "1", "VariablePixelData", true, 0xFF00FFFFu);

    // dictionary_vr packs the first two characters.
    if (dictionary_vr(0x00100010u) != (('P' << 8) | 'N')) fail("dictionary_vr", 0x00100010u, "not 'PN'");
    if (dictionary_vr(0x00280106u) != (('U' << 8) | 'S')) fail("dictionary_vr", 0x00280106u, "not 'US' (US or SS)");

    // Not in the dictionary.
    expect_missing(0x00110010u);  // private creator
    expect_missing(0x00091001u);  // private
    expect_missing(0x60013000u);  // odd group: repeaters apply to even groups only
    expect_missing(0x50010010u);  // odd group curve
    expect_missing(0x00100011u);  // unassigned public tag
    expect_missing(0xFFFFFFFFu);
}

void check_tables() {
    // The exact table is sorted, unique and has full masks.
    std::uint32_t prev = 0;
    bool first = true;
    for (const dict_entry& e : expected::kExactEntries) {
        if (e.mask != 0xFFFFFFFFu) fail("exact table", e.tag, "mask is not 0xFFFFFFFF");
        if (!first && e.tag <= prev) fail("exact table", e.tag, "not strictly sorted");
        if (std::strlen(e.vr) < 2) fail("exact table", e.tag, "VR shorter than two characters");
        prev = e.tag;
        first = false;
    }
    if (std::size(expected::kExactEntries) < 4000) fail("exact table", 0, "suspiciously small");
    if (std::size(expected::kRepeaterEntries) < 50) fail("repeater table", 0, "suspiciously small");

    for (const dict_entry& e : expected::kRepeaterEntries) {
        if ((e.tag & ~e.mask) != 0) fail("repeater table", e.tag, "tag has bits outside its mask");
        if (e.mask == 0xFFFFFFFFu) fail("repeater table", e.tag, "repeater without masked digits");
    }
}

void check_round_trip() {
    // Every exact entry is found and is itself.
    for (const dict_entry& e : expected::kExactEntries) {
        const dict_entry* got = dictionary_lookup(e.tag);
        if (got == nullptr) {
            fail("round trip", e.tag, "exact entry not found");
        } else if (!same(*got, e)) {
            fail("round trip", e.tag, "lookup returned a different entry");
        } else if (dictionary_vr(e.tag) != vr2(e.vr)) {
            fail("round trip", e.tag, "dictionary_vr differs from the entry's VR");
        }
    }
    // Every repeater is found for its base tag (masked digits zero) and for the
    // same tag with all masked bits set to the largest even group, unless an
    // exact entry takes precedence (then that exact entry must be returned).
    for (const dict_entry& e : expected::kRepeaterEntries) {
        const std::uint32_t variants[] = {e.tag, (e.tag | ~e.mask) & ~0x00010000u};
        for (std::uint32_t tag : variants) {
            const dict_entry* got = dictionary_lookup(tag);
            // Reference answer by linear search: exact entry, else the first
            // matching repeater in table (= pydicom) order.
            const dict_entry* want = nullptr;
            for (const dict_entry& x : expected::kExactEntries) {
                if (x.tag == tag) want = &x;
            }
            for (const dict_entry& x : expected::kRepeaterEntries) {
                if (want == nullptr && ((tag ^ x.tag) & x.mask) == 0) want = &x;
            }
            if (got == nullptr) {
                fail("round trip", tag, "repeater not found");
            } else if (!same(*got, *want)) {
                fail("round trip", tag, "lookup returned a different entry");
            }
        }
    }
}

}  // namespace

int main() {
    check_known_entries();
    check_tables();
    check_round_trip();
    std::printf("dictionary_test: %zu exact, %zu repeater entries\n", std::size(expected::kExactEntries),
                std::size(expected::kRepeaterEntries));
    return turbodicom::test::exit_code("dictionary_test");
}
