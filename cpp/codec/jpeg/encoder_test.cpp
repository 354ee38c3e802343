// Tests of the JPEG encoders (codec/jpeg/encoder.hpp): the Huffman table builder and the
// Annex K tables, the structure of the streams, exact streams for tiny images (each one
// decoded to the input by libjpeg-turbo, pylibjpeg-libjpeg, GDCM and DCMTK), a round trip
// of lossless streams through a minimal reading of the stream written here for the purpose,
// and the checks of the caller's input.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/jpeg/encode_dct.hpp"
#include "codec/jpeg/encode_huffman.hpp"
#include "codec/jpeg/encode_segments.hpp"
#include "codec/jpeg/encoder.hpp"
#include "core/test_support.hpp"

namespace {

using namespace turbodicom::codec;
using bytes = std::vector<std::uint8_t>;
using turbodicom::test::current_test;
using turbodicom::test::fail;

bytes from_hex(const char* hex) {
    bytes out;
    for (const char* p = hex; p[0] && p[1]; p += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(p, 2), nullptr, 16)));
    return out;
}

frame_desc make_desc(std::uint32_t rows, std::uint32_t columns, unsigned spp, unsigned allocated, unsigned stored) {
    frame_desc d;
    d.rows = rows;
    d.columns = columns;
    d.samples_per_pixel = static_cast<std::uint16_t>(spp);
    d.bits_allocated = static_cast<std::uint16_t>(allocated);
    d.bits_stored = static_cast<std::uint16_t>(stored);
    return d;
}

bytes as_bytes(const std::vector<std::uint16_t>& values) {
    bytes out(values.size() * 2);
    for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(&out[i * 2], &values[i], 2);
    return out;
}

// The marker segments of a stream up to SOS: marker code and payload (without the length).
struct segment {
    std::uint8_t marker;
    bytes payload;
};

std::vector<segment> read_segments(const bytes& s, std::size_t* scan_start = nullptr) {
    std::vector<segment> out;
    std::size_t i = 2;
    while (i + 4 <= s.size() && s[i] == 0xFF) {
        const std::uint8_t m = s[i + 1];
        const std::size_t length = std::size_t(s[i + 2]) << 8 | s[i + 3];
        if (length < 2 || i + 2 + length > s.size()) break;
        out.push_back({m, bytes(s.begin() + i + 4, s.begin() + i + 2 + length)});
        i += 2 + length;
        if (m == 0xDA) break;
    }
    if (scan_start) *scan_start = i;
    return out;
}

// No marker inside the entropy-coded data: every 0xFF is followed by a stuffed 0x00.
bool scan_is_stuffed(const bytes& s, std::size_t start) {
    if (s.size() < start + 2 || s[s.size() - 2] != 0xFF || s[s.size() - 1] != 0xD9) return false;
    for (std::size_t i = start; i + 2 < s.size(); ++i)
        if (s[i] == 0xFF && s[i + 1] != 0x00) return false;
    return true;
}

template <class F>
bool throws_bad_argument(F&& f) {
    try {
        f();
    } catch (const codec_error& e) {
        return e.code() == codec_errc::bad_argument;
    } catch (...) {
        return false;
    }
    return false;
}

// ---------------------------------------------------------------------------
// A minimal reading of the lossless streams this encoder writes (one interleaved scan,
// 1x1 sampling, no restart intervals), enough to check the round trip here.

struct lossless_image {
    unsigned precision = 0, rows = 0, columns = 0, components = 0, predictor = 0;
    std::vector<std::uint32_t> samples;  // colour-by-pixel
};

bool read_lossless(const bytes& s, lossless_image& image) {
    std::size_t pos = 0;
    const auto segments = read_segments(s, &pos);
    std::array<std::vector<std::pair<std::uint32_t, int>>, 17> codes_by_length[4];  // per table
    std::vector<int> table_of;
    for (const auto& seg : segments) {
        const bytes& p = seg.payload;
        if (seg.marker == 0xC3) {
            image.precision = p[0];
            image.rows = p[1] << 8 | p[2];
            image.columns = p[3] << 8 | p[4];
            image.components = p[5];
        } else if (seg.marker == 0xC4) {
            const unsigned id = p[0] & 15;
            if (id > 3) return false;
            std::uint32_t code = 0;
            std::size_t k = 17;
            for (int length = 1; length <= 16; ++length, code <<= 1)
                for (int i = 0; i < p[length]; ++i) codes_by_length[id][length].push_back({code++, p[k++]});
        } else if (seg.marker == 0xDA) {
            for (unsigned c = 0; c < p[0]; ++c) table_of.push_back(p[2 + 2 * c] >> 4);
            image.predictor = p[1 + 2 * p[0]];
        }
    }
    if (table_of.size() != image.components || image.components == 0) return false;
    std::size_t bit = 0;
    bytes data;  // unstuffed
    for (std::size_t i = pos; i + 2 < s.size(); ++i) {
        data.push_back(s[i]);
        if (s[i] == 0xFF) ++i;
    }
    auto read_bit = [&]() -> int {
        if (bit / 8 >= data.size()) return -1;
        const int b = (data[bit / 8] >> (7 - bit % 8)) & 1;
        ++bit;
        return b;
    };
    auto decode_difference = [&](int table) -> long {
        std::uint32_t code = 0;
        for (int length = 1; length <= 16; ++length) {
            const int b = read_bit();
            if (b < 0) return -100000;
            code = code << 1 | b;
            for (const auto& entry : codes_by_length[table][length]) {
                if (entry.first != code) continue;
                const int ssss = entry.second;
                if (ssss == 16) return 32768;
                long value = 0;
                for (int i = 0; i < ssss; ++i) value = value << 1 | read_bit();
                if (ssss && value < (1L << (ssss - 1))) value -= (1L << ssss) - 1;
                return value;
            }
        }
        return -100000;
    };
    const unsigned n = image.components, w = image.columns;
    image.samples.assign(std::size_t(image.rows) * w * n, 0);
    for (unsigned y = 0; y < image.rows; ++y) {
        for (unsigned x = 0; x < w; ++x) {
            for (unsigned c = 0; c < n; ++c) {
                auto at = [&](unsigned yy, unsigned xx) { return long(image.samples[(std::size_t(yy) * w + xx) * n + c]); };
                long prediction;
                if (y == 0 && x == 0) prediction = 1L << (image.precision - 1);
                else if (y == 0) prediction = at(0, x - 1);
                else if (x == 0) prediction = at(y - 1, 0);
                else {
                    const long a = at(y, x - 1), b = at(y - 1, x), cc = at(y - 1, x - 1);
                    switch (image.predictor) {
                        case 1: prediction = a; break;
                        case 2: prediction = b; break;
                        case 3: prediction = cc; break;
                        case 4: prediction = a + b - cc; break;
                        case 5: prediction = a + ((b - cc) >> 1); break;
                        case 6: prediction = b + ((a - cc) >> 1); break;
                        default: prediction = (a + b) >> 1; break;
                    }
                }
                const long difference = decode_difference(table_of[c]);
                if (difference == -100000) return false;
                image.samples[(std::size_t(y) * w + x) * n + c] =
                    static_cast<std::uint32_t>((prediction + difference) & 0xFFFF) & ((1u << image.precision) - 1);
            }
        }
    }
    return true;
}

// ---------------------------------------------------------------------------

void check_table_shape(const jpeg::encoding::huffman_table& table, const jpeg::encoding::symbol_counts& counts) {
    unsigned total = 0;
    double kraft = 0;
    for (int length = 1; length <= 16; ++length) {
        total += table.bits[length - 1];
        kraft += table.bits[length - 1] / double(1u << length);
    }
    CHECK_EQ(total, table.values.size());
    CHECK(kraft < 1.0);  // the all-1s code stays free
    std::array<bool, 256> present{};
    for (auto v : table.values) present[v] = true;
    bool any = false;
    for (int v = 0; v < 256; ++v) {
        if (counts[v]) any = true;
        if (counts[v]) CHECK(present[v]);
        if (!counts[v] && present[v]) CHECK(!any && v == 0);  // only the placeholder of an empty table
    }
    // Codes are prefix-free when they are assigned by Annex C from a Kraft sum below 1;
    // check that the assignment gives each symbol its length.
    const auto codes = jpeg::encoding::make_codes(table);
    std::size_t k = 0;
    for (int length = 1; length <= 16; ++length)
        for (int i = 0; i < table.bits[length - 1]; ++i, ++k) CHECK_EQ(int(codes.length[table.values[k]]), length);
}

void test_optimal_tables() {
    current_test = "optimal_tables";
    using jpeg::encoding::symbol_counts;
    std::vector<symbol_counts> cases;
    symbol_counts c{};
    cases.push_back(c);  // nothing counted
    c[5] = 10;
    cases.push_back(c);  // one symbol
    c[7] = 10;
    cases.push_back(c);
    symbol_counts fibonacci{};  // lengths over 16 before the limiting of K.3
    std::uint64_t a = 1, b = 1;
    for (int v = 0; v < 40; ++v) {
        fibonacci[v] = a;
        const std::uint64_t next = a + b;
        a = b;
        b = next;
    }
    cases.push_back(fibonacci);
    symbol_counts uniform{};
    uniform.fill(1000);
    cases.push_back(uniform);
    symbol_counts huge{};
    huge[0] = std::uint64_t(1) << 40;
    for (int v = 1; v < 256; ++v) huge[v] = 1;
    cases.push_back(huge);
    for (const auto& counts : cases) {
        const auto table = jpeg::encoding::optimal_table(counts);
        check_table_shape(table, counts);
    }
    // One symbol: a 1-bit code (the other 1-bit code would be all 1s).
    const auto single = jpeg::encoding::optimal_table(cases[1]);
    CHECK_EQ(int(single.bits[0]), 1);
    CHECK_EQ(single.values.size(), std::size_t(1));
    // The most frequent symbols get the shortest codes, the rarest the longest allowed.
    const auto fib = jpeg::encoding::optimal_table(fibonacci);
    const auto codes = jpeg::encoding::make_codes(fib);
    CHECK_EQ(int(codes.length[39]), 2);
    CHECK_EQ(int(codes.length[38]), 2);
    CHECK_EQ(int(codes.length[30]), 6);
    CHECK_EQ(int(codes.length[0]), 16);
}

void test_standard_tables() {
    current_test = "standard_tables";
    using namespace jpeg::encoding;
    for (const huffman_table* t : {&standard_dc_luminance(), &standard_dc_chrominance()}) {
        CHECK_EQ(t->values.size(), std::size_t(12));
        symbol_counts counts{};
        for (int v = 0; v < 12; ++v) counts[v] = 1;
        check_table_shape(*t, counts);
    }
    for (const huffman_table* t : {&standard_ac_luminance(), &standard_ac_chrominance()}) {
        // Every AC symbol: EOB, ZRL and each run 0..15 with size 1..10.
        symbol_counts counts{};
        counts[0x00] = counts[0xF0] = 1;
        for (int run = 0; run < 16; ++run)
            for (int size = 1; size <= 10; ++size) counts[run << 4 | size] = 1;
        CHECK_EQ(t->values.size(), std::size_t(162));
        check_table_shape(*t, counts);
    }
    // Codes from Tables K.3 and K.5.
    const auto dc = make_codes(standard_dc_luminance());
    CHECK_EQ(int(dc.length[0]), 2);
    CHECK_EQ(int(dc.code[0]), 0b00);
    CHECK_EQ(int(dc.length[11]), 9);
    CHECK_EQ(int(dc.code[11]), 0b111111110);
    const auto ac = make_codes(standard_ac_luminance());
    CHECK_EQ(int(ac.length[0x00]), 4);
    CHECK_EQ(int(ac.code[0x00]), 0b1010);
    CHECK_EQ(int(ac.length[0xF0]), 11);
    CHECK_EQ(int(ac.code[0xF0]), 0b11111111001);
    CHECK_EQ(int(ac.code[0x01]), 0b00);
    const auto ac_chroma = make_codes(standard_ac_chrominance());
    CHECK_EQ(int(ac_chroma.length[0x00]), 2);
    CHECK_EQ(int(ac_chroma.code[0x00]), 0b00);
    CHECK_EQ(int(ac_chroma.length[0xF0]), 10);
}

void test_zigzag_and_quantization() {
    current_test = "zigzag_and_quantization";
    using namespace jpeg::encoding;
    const std::array<int, 10> first = {0, 1, 8, 16, 9, 2, 3, 10, 17, 24};
    for (int k = 0; k < 10; ++k) CHECK_EQ(int(zigzag_to_natural[k]), first[k]);
    CHECK_EQ(int(zigzag_to_natural[63]), 63);
    std::array<bool, 64> seen{};
    for (auto n : zigzag_to_natural) seen[n] = true;
    for (bool s : seen) CHECK(s);

    const auto q50 = scale_quantization(luminance_quantization, 50);
    for (int i = 0; i < 64; ++i) CHECK_EQ(int(q50[i]), int(luminance_quantization[i]));
    const auto q100 = scale_quantization(chrominance_quantization, 100);
    for (int i = 0; i < 64; ++i) CHECK_EQ(int(q100[i]), 1);
    const auto q75 = scale_quantization(luminance_quantization, 75);
    CHECK_EQ(int(q75[0]), 8);    // 16 * 50%
    CHECK_EQ(int(q75[1]), 6);    // 11 * 50% = 5.5, rounded up
    const auto q1 = scale_quantization(luminance_quantization, 1);
    CHECK_EQ(int(q1[0]), 255);   // 16 * 5000%, clamped
    const auto q10 = scale_quantization(luminance_quantization, 10);
    CHECK_EQ(int(q10[2]), 50);   // 10 * 500%
}

void test_lossless_exact_streams() {
    current_test = "lossless_exact_streams";
    {
        const bytes in = as_bytes({0, 4095, 2048, 100, 200, 4000});
        CHECK(jpeg::encode_lossless(in.data(), in.size(), make_desc(2, 3, 1, 16, 12)) ==
              from_hex("ffd8ffc3000b0c0002000301011100ffc4001600010101000000000000000000000000000c070bffda00080101"
                       "000100003ffbff00f000b2591db1ffd9"));
    }
    {
        // 0 after the initial prediction 32768: the difference 32768 of category 16.
        const bytes in = as_bytes({0, 65535, 32768});
        CHECK(jpeg::encode_lossless(in.data(), in.size(), make_desc(1, 3, 1, 16, 16)) ==
              from_hex("ffd8ffc3000b100001000301011100ffc400160000030000000000000000000000000000010f10ffda0008"
                       "010100010000820003ffd9"));
    }
    {
        const bytes in = {255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128};
        CHECK(jpeg::encode_lossless(in.data(), in.size(), make_desc(2, 2, 3, 8, 8)) ==
              from_hex("ffd8ffc30011080002000203011100021100031100ffc4001500010100000000000000000000000000000807"
                       "ffc4001501010100000000000000000000000000000800ffc400160201010100000000000000000000000000"
                       "080007ffda000c03010002100320010000bf9fcfe007fc009fe8040601ffd9"));
    }
    {
        const bytes in = {1, 2, 3, 4, 250, 6, 7, 8, 9};
        CHECK(jpeg::encode_lossless(in.data(), in.size(), make_desc(3, 3, 1, 8, 8), 7) ==
              from_hex("ffd8ffc3000b080003000301011100ffc40017000003010000000000000000000000000001020708ffda0008"
                       "0101000700008012fbde0ef076ffd9"));
    }
}

void test_lossless_structure_and_round_trip() {
    current_test = "lossless_structure_and_round_trip";
    std::mt19937 rng(7);
    for (unsigned precision = 2; precision <= 16; ++precision) {
        for (unsigned spp : {1u, 3u}) {
            for (int predictor = 1; predictor <= 7; ++predictor) {
                const unsigned rows = 1 + rng() % 19, columns = 1 + rng() % 23;
                const unsigned allocated = precision <= 8 && (rng() & 1) ? 8 : 16;
                const std::uint32_t mask = (1u << precision) - 1;
                std::vector<std::uint32_t> values(std::size_t(rows) * columns * spp);
                const int kind = predictor % 3;  // random, constant at the maximum, smooth with noise
                for (std::size_t i = 0; i < values.size(); ++i)
                    values[i] = kind == 0 ? rng() & mask : kind == 1 ? mask : ((i / spp) * 3 + (rng() & 3)) & mask;
                bytes in(values.size() * allocated / 8);
                for (std::size_t i = 0; i < values.size(); ++i) {
                    // Bits above the precision are ignored: set some.
                    const std::uint32_t v = values[i] | (precision < allocated ? (rng() << precision) : 0);
                    if (allocated == 8) in[i] = static_cast<std::uint8_t>(v);
                    else {
                        const auto v16 = static_cast<std::uint16_t>(v);
                        std::memcpy(&in[i * 2], &v16, 2);
                    }
                }
                const std::string name = "P=" + std::to_string(precision) + " spp=" + std::to_string(spp) +
                                         " predictor=" + std::to_string(predictor) + " " + std::to_string(rows) +
                                         "x" + std::to_string(columns);
                const bytes s = jpeg::encode_lossless(in.data(), in.size(), make_desc(rows, columns, spp, allocated, precision), predictor);
                std::size_t scan_start = 0;
                const auto segments = read_segments(s, &scan_start);
                CHECK(s.size() > 4 && s[0] == 0xFF && s[1] == 0xD8);
                CHECK(scan_is_stuffed(s, scan_start));
                unsigned dht = 0;
                for (const auto& seg : segments) {
                    if (seg.marker == 0xC3) {
                        CHECK_EQ(seg.payload.size(), std::size_t(6 + 3 * spp));
                        CHECK_EQ(unsigned(seg.payload[0]), precision);
                        for (unsigned c = 0; c < spp; ++c) {
                            CHECK_EQ(unsigned(seg.payload[6 + 3 * c]), c + 1);
                            CHECK_EQ(unsigned(seg.payload[7 + 3 * c]), 0x11u);
                        }
                    }
                    if (seg.marker == 0xC4) ++dht;
                    if (seg.marker == 0xDA) {
                        CHECK_EQ(unsigned(seg.payload[1 + 2 * spp]), unsigned(predictor));  // Ss
                        CHECK_EQ(unsigned(seg.payload[2 + 2 * spp]), 0u);                   // Se
                        CHECK_EQ(unsigned(seg.payload[3 + 2 * spp]), 0u);                   // Ah, Al
                    }
                }
                CHECK_EQ(dht, spp);
                lossless_image image;
                if (!read_lossless(s, image)) {
                    fail("cannot read back " + name);
                    continue;
                }
                if (image.samples != values) fail("round trip differs: " + name);
            }
        }
    }
    // Colour-by-plane input gives the same stream as colour-by-pixel.
    bytes by_pixel(5 * 4 * 3), by_plane(by_pixel.size());
    for (std::size_t i = 0; i < by_pixel.size(); ++i) by_pixel[i] = static_cast<std::uint8_t>(rng());
    for (std::size_t p = 0; p < 20; ++p)
        for (std::size_t c = 0; c < 3; ++c) by_plane[c * 20 + p] = by_pixel[p * 3 + c];
    frame_desc planar = make_desc(5, 4, 3, 8, 8);
    planar.planar_configuration = 1;
    CHECK(jpeg::encode_lossless(by_plane.data(), by_plane.size(), planar) ==
          jpeg::encode_lossless(by_pixel.data(), by_pixel.size(), make_desc(5, 4, 3, 8, 8)));
}

void test_baseline() {
    current_test = "baseline";
    {
        // Two flat halves; decoded by libjpeg-turbo within 4 of the input.
        bytes in(64);
        for (int i = 0; i < 64; ++i) in[i] = (i % 8) < 4 ? 200 : 40;
        jpeg::baseline_options options;
        options.quality = 50;
        CHECK(jpeg::encode_baseline(in.data(), in.size(), make_desc(8, 8, 1, 8, 8), options) ==
              from_hex("ffd8ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d3c3933383740485c4e"
                       "404457453738506d51575f626768673e4d71797064785c656763ffc0000b080008000801011100ffc4001f0000"
                       "010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000"
                       "017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a16171819"
                       "1a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a73747576777879"
                       "7a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9ca"
                       "d2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f008fc6bff2e5ff00"
                       "03ff00d96bffd9"));
    }
    std::mt19937 rng(3);
    for (unsigned spp : {1u, 3u}) {
        for (auto chroma : {jpeg::subsampling::s444, jpeg::subsampling::s422, jpeg::subsampling::s420}) {
            for (bool optimize : {false, true}) {
                const unsigned rows = 1 + rng() % 40, columns = 1 + rng() % 40;
                bytes in(std::size_t(rows) * columns * spp);
                for (auto& b : in) b = static_cast<std::uint8_t>(rng());
                jpeg::baseline_options options;
                options.chroma = chroma;
                options.optimize_huffman = optimize;
                const bytes s = jpeg::encode_baseline(in.data(), in.size(), make_desc(rows, columns, spp, 8, 8), options);
                std::size_t scan_start = 0;
                const auto segments = read_segments(s, &scan_start);
                CHECK(scan_is_stuffed(s, scan_start));
                unsigned dqt = 0, dht = 0, jfif = 0;
                for (const auto& seg : segments) {
                    if (seg.marker == 0xE0 && seg.payload.size() == 14 && seg.payload[0] == 'J' && seg.payload[4] == 0) ++jfif;
                    if (seg.marker == 0xDB) ++dqt;
                    if (seg.marker == 0xC4) {
                        ++dht;
                        unsigned total = 0;
                        for (int i = 1; i <= 16; ++i) total += seg.payload[i];
                        CHECK_EQ(seg.payload.size(), std::size_t(17 + total));
                    }
                    if (seg.marker == 0xC0) {
                        CHECK_EQ(unsigned(seg.payload[0]), 8u);
                        CHECK_EQ(unsigned(seg.payload[1] << 8 | seg.payload[2]), rows);
                        CHECK_EQ(unsigned(seg.payload[3] << 8 | seg.payload[4]), columns);
                        CHECK_EQ(unsigned(seg.payload[5]), spp);
                        const unsigned luma = spp == 1 || chroma == jpeg::subsampling::s444 ? 0x11
                                              : chroma == jpeg::subsampling::s422      ? 0x21
                                                                                       : 0x22;
                        CHECK_EQ(unsigned(seg.payload[7]), luma);
                        if (spp == 3) CHECK_EQ(unsigned(seg.payload[10]), 0x11u);
                    }
                    if (seg.marker == 0xDA) {
                        CHECK_EQ(unsigned(seg.payload[1 + 2 * spp]), 0u);
                        CHECK_EQ(unsigned(seg.payload[2 + 2 * spp]), 63u);
                    }
                }
                CHECK_EQ(jfif, spp == 3 ? 1u : 0u);
                CHECK_EQ(dqt, spp == 3 ? 2u : 1u);
                CHECK_EQ(dht, spp == 3 ? 4u : 2u);
            }
        }
    }
}

void test_invalid_input() {
    current_test = "invalid_input";
    const bytes buffer(3 * 70000 * 2 + 16);
    auto lossless = [&](frame_desc d, std::size_t size, int predictor = 1) {
        return throws_bad_argument([&] { jpeg::encode_lossless(buffer.data(), size, d, predictor); });
    };
    CHECK(lossless(make_desc(0, 4, 1, 8, 8), 0));
    CHECK(lossless(make_desc(4, 0, 1, 8, 8), 0));
    CHECK(lossless(make_desc(1, 70000, 1, 8, 8), 70000));
    CHECK(lossless(make_desc(70000, 1, 1, 8, 8), 70000));
    CHECK(lossless(make_desc(2, 2, 2, 8, 8), 8));
    CHECK(lossless(make_desc(2, 2, 4, 8, 8), 16));
    CHECK(lossless(make_desc(2, 2, 1, 12, 12), 6));
    CHECK(lossless(make_desc(2, 2, 1, 8, 1), 4));
    CHECK(lossless(make_desc(2, 2, 1, 16, 17), 8));
    CHECK(lossless(make_desc(2, 2, 1, 8, 12), 4));
    CHECK(lossless(make_desc(2, 2, 1, 16, 12), 7));
    CHECK(lossless(make_desc(2, 2, 1, 16, 12), 9));
    CHECK(lossless(make_desc(2, 2, 3, 8, 8), 11));
    CHECK(lossless(make_desc(2, 2, 1, 8, 8), 4, 0));
    CHECK(lossless(make_desc(2, 2, 1, 8, 8), 4, 8));
    frame_desc planar = make_desc(2, 2, 3, 8, 8);
    planar.planar_configuration = 2;
    CHECK(lossless(planar, 12));
    CHECK(throws_bad_argument([] { jpeg::encode_lossless(nullptr, 4, make_desc(2, 2, 1, 8, 8)); }));
    // The largest dimensions are accepted.
    CHECK(!lossless(make_desc(1, 65535, 1, 8, 8), 65535));
    CHECK(!lossless(make_desc(65535, 1, 1, 16, 16), 65535 * 2));

    auto baseline = [&](frame_desc d, std::size_t size, jpeg::baseline_options o = {}) {
        return throws_bad_argument([&] { jpeg::encode_baseline(buffer.data(), size, d, o); });
    };
    CHECK(baseline(make_desc(2, 2, 1, 16, 12), 8));
    CHECK(baseline(make_desc(2, 2, 1, 8, 7), 4));
    CHECK(baseline(make_desc(2, 2, 1, 8, 8), 5));
    CHECK(baseline(make_desc(2, 2, 2, 8, 8), 8));
    CHECK(baseline(make_desc(0, 2, 1, 8, 8), 0));
    frame_desc signed_desc = make_desc(2, 2, 1, 8, 8);
    signed_desc.is_signed = true;
    CHECK(baseline(signed_desc, 4));
    jpeg::baseline_options o;
    o.quality = 0;
    CHECK(baseline(make_desc(2, 2, 1, 8, 8), 4, o));
    o.quality = 101;
    CHECK(baseline(make_desc(2, 2, 1, 8, 8), 4, o));
    o.quality = 90;
    o.chroma = static_cast<jpeg::subsampling>(7);
    CHECK(baseline(make_desc(2, 2, 3, 8, 8), 12, o));
    CHECK(!baseline(make_desc(1, 70000 / 2, 3, 8, 8), 3 * 35000));
    CHECK(throws_bad_argument([] { jpeg::encode_baseline(nullptr, 4, make_desc(2, 2, 1, 8, 8), {}); }));
}

}  // namespace

int main() {
    turbodicom::test::run({
        test_optimal_tables, test_standard_tables, test_zigzag_and_quantization, test_lossless_exact_streams,
        test_lossless_structure_and_round_trip, test_baseline, test_invalid_input,
    });
    return turbodicom::test::exit_code("encoder_test");
}
