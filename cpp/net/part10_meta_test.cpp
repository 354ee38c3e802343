// Tests of read_part10_meta (net/part10_meta.hpp): a meta group as PS3.10 writes it, long
// and short length forms, padding removed, and every unusable input (no 'DICM', an element
// cut at any byte, an undefined length, a group that does not end, a missing or non-ASCII
// UID) answered "not usable", never an over-read.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "net/part10_meta.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "core/test_support.hpp"

namespace {

namespace net = turbodicom::net;
using bytes = std::vector<std::uint8_t>;

void short_element(bytes& out, std::uint16_t element, const char* vr, const std::string& value) {
    out.insert(out.end(), {0x02, 0x00, std::uint8_t(element), std::uint8_t(element >> 8), std::uint8_t(vr[0]),
                           std::uint8_t(vr[1]), std::uint8_t(value.size()), std::uint8_t(value.size() >> 8)});
    out.insert(out.end(), value.begin(), value.end());
}

void long_element(bytes& out, std::uint16_t group, std::uint16_t element, const char* vr, const bytes& value) {
    const std::uint32_t n = std::uint32_t(value.size());
    out.insert(out.end(), {std::uint8_t(group), std::uint8_t(group >> 8), std::uint8_t(element),
                           std::uint8_t(element >> 8), std::uint8_t(vr[0]), std::uint8_t(vr[1]), 0, 0,
                           std::uint8_t(n), std::uint8_t(n >> 8), std::uint8_t(n >> 16), std::uint8_t(n >> 24)});
    out.insert(out.end(), value.begin(), value.end());
}

// A file's first bytes: preamble, DICM, the meta group, then the start of a data set.
bytes file(const std::string& sop_class = "1.2.840.10008.5.1.4.1.1.2", const std::string& instance = "1.2.3.4",
           const std::string& syntax = std::string("1.2.840.10008.1.2.1\0", 20)) {
    bytes out(128, 0);
    out.insert(out.end(), {'D', 'I', 'C', 'M'});
    short_element(out, 0x0000, "UL", std::string("\x00\x00\x00\x00", 4));  // a group length, not relied on
    long_element(out, 0x0002, 0x0001, "OB", {0x00, 0x01});
    short_element(out, 0x0002, "UI", sop_class);
    short_element(out, 0x0003, "UI", instance);
    short_element(out, 0x0010, "UI", syntax);
    short_element(out, 0x0013, "SH", "TEST ");
    return out;
}

bytes with_dataset(bytes out) {
    out.insert(out.end(), {0x08, 0x00, 0x05, 0x00, 'C', 'S', 0x0A, 0x00});
    return out;
}

void test_reads_the_meta_group() {
    const bytes head = file();
    const bytes f = with_dataset(head);
    const auto meta = net::read_part10_meta(f.data(), f.size());
    CHECK(meta.has_value());
    if (!meta) return;
    CHECK(meta->dataset_offset == head.size());
    CHECK(meta->sop_class == "1.2.840.10008.5.1.4.1.1.2");
    CHECK(meta->sop_instance == "1.2.3.4");
    CHECK(meta->transfer_syntax == "1.2.840.10008.1.2.1");  // the NUL padding removed
}

void test_every_truncation_is_refused() {
    const bytes f = with_dataset(file());
    // Any cut inside the meta group or before the next group's first 8 bytes: not usable.
    for (std::size_t n = 0; n < f.size(); ++n) {
        CHECK(!net::read_part10_meta(f.data(), n).has_value());
    }
    CHECK(net::read_part10_meta(f.data(), f.size()).has_value());
}

void test_unusable_inputs() {
    bytes f = with_dataset(file());
    f[128] = 'X';
    CHECK(!net::read_part10_meta(f.data(), f.size()));

    f = with_dataset(file("1.2.840.10008.5.1.4.1.1.2", std::string("1.2.\xff", 5)));  // not ASCII
    CHECK(!net::read_part10_meta(f.data(), f.size()));
    f = with_dataset(file("1.2.840.10008.5.1.4.1.1.2", std::string("1.2\n3", 5)));  // a control character
    CHECK(!net::read_part10_meta(f.data(), f.size()));
    f = with_dataset(file("", "1.2.3"));  // an empty SOP Class UID
    CHECK(!net::read_part10_meta(f.data(), f.size()));
    f = with_dataset(file("1.2", "1.2.3", std::string("\0\0", 2)));  // a transfer syntax of padding only
    CHECK(!net::read_part10_meta(f.data(), f.size()));

    // An undefined length in the meta group.
    bytes g = file();
    long_element(g, 0x0002, 0x0102, "OB", {});
    g[g.size() - 4] = g[g.size() - 3] = g[g.size() - 2] = g[g.size() - 1] = 0xFF;
    g = with_dataset(g);
    CHECK(!net::read_part10_meta(g.data(), g.size()));

    // A 4-byte length running far past the end.
    bytes h = file();
    long_element(h, 0x0002, 0x0102, "OB", {1, 2});
    h[h.size() - 4] = 0xF0;
    h[h.size() - 3] = 0xFF;
    h = with_dataset(h);
    CHECK(!net::read_part10_meta(h.data(), h.size()));
}

void test_long_vr_and_padding() {
    bytes f = file("1.2.840.10008.5.1.4.1.1.4 ", std::string("9.8.7\0", 6));
    long_element(f, 0x0002, 0x0102, "OB", bytes(300, 0xAB));  // Private Information: a 4-byte length
    const bytes g = with_dataset(f);
    const auto meta = net::read_part10_meta(g.data(), g.size());
    CHECK(meta.has_value());
    if (!meta) return;
    CHECK(meta->sop_class == "1.2.840.10008.5.1.4.1.1.4");
    CHECK(meta->sop_instance == "9.8.7");
    CHECK(meta->dataset_offset == f.size());
}

}  // namespace

int main() {
    test_reads_the_meta_group();
    test_every_truncation_is_refused();
    test_unusable_inputs();
    test_long_vr_and_padding();
    return turbodicom::test::exit_code("part10_meta_test");
}
