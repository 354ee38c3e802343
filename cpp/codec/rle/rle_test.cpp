// Tests of RLE Lossless (codec/rle/rle.hpp): streams whose bytes are worked out by hand
// from PS3.5 G.3 and checked with pydicom's decoder, each PackBits case, round trips for
// 8 to 64 bits x 1 and 3 samples, pydicom's tolerance of damaged segments, every error,
// and the RLE files of ../shared/corpus against hashes of what pydicom's and
// pylibjpeg-rle's decoders return for them (colour-by-pixel little-endian bytes).
// Plain executable: prints one line per failure, returns non-zero on failure.
// The working directory is the repository root (set by CMake).
#include "codec/rle/rle.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "core/test_support.hpp"
#include "parse/encapsulated.hpp"
#include "parse/parser.hpp"

namespace {

namespace codec = turbodicom::codec;
namespace rle = turbodicom::codec::rle;
using codec::codec_errc;
using codec::codec_error;
using codec::frame_desc;
using bytes = std::vector<std::uint8_t>;
using turbodicom::test::current_test;
using turbodicom::test::expect_error;
using turbodicom::test::fail;

frame_desc desc_of(std::uint32_t rows, std::uint32_t columns, std::uint16_t samples, std::uint16_t bits) {
    frame_desc d;
    d.rows = rows;
    d.columns = columns;
    d.samples_per_pixel = samples;
    d.bits_allocated = bits;
    d.bits_stored = bits;
    return d;
}

std::size_t out_bytes(const frame_desc& d) { return std::size_t(d.samples()) * d.bits_allocated / 8; }

// An RLE frame from its segments: the 64-byte header, then the segments in order.
bytes make_frame(const std::vector<bytes>& segments) {
    bytes f(64, 0);
    auto put = [&](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) f[at + i] = std::uint8_t(v >> (8 * i));
    };
    put(0, std::uint32_t(segments.size()));
    std::uint32_t offset = 64;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        put(4 + 4 * i, offset);
        offset += std::uint32_t(segments[i].size());
    }
    for (const bytes& s : segments) f.insert(f.end(), s.begin(), s.end());
    return f;
}

bytes decode(const bytes& frame, const frame_desc& d) {
    bytes out(out_bytes(d), 0xCD);
    rle::decode(frame.data(), frame.size(), d, out.data(), out.size());
    return out;
}

std::uint64_t fnv1a(const bytes& b) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::uint8_t x : b) h = (h ^ x) * 0x100000001b3ull;
    return h;
}

// ---------------------------------------------------------------------------

void test_known_streams() {
    current_test = "known streams";
    // 1 x 8, 8-bit: a replicate run of 4, then 2 3 4 4 as one literal (the 2-byte repeat
    // joins the pending literal), padded to even length.
    const bytes pixels8 = {1, 1, 1, 1, 2, 3, 4, 4};
    const bytes ours8 = make_frame({{0xFD, 0x01, 0x03, 0x02, 0x03, 0x04, 0x04, 0x00}});
    const frame_desc d8 = desc_of(1, 8, 1, 8);
    CHECK(rle::encode(pixels8.data(), pixels8.size(), d8) == ours8);
    CHECK(decode(ours8, d8) == pixels8);
    // pydicom's encoder codes the 2-byte repeat as a replicate run: same pixels.
    CHECK(decode(make_frame({{0xFD, 0x01, 0x01, 0x02, 0x03, 0xFF, 0x04, 0x00}}), d8) == pixels8);

    // 2 x 3, 16-bit: MSB segment first; rows are packed separately (G.3.1).
    // Samples 0x0102 0x0102 0x0102 / 0x0304 0x0005 0x0006, little endian out.
    const bytes pixels16 = {0x02, 0x01, 0x02, 0x01, 0x02, 0x01, 0x04, 0x03, 0x05, 0x00, 0x06, 0x00};
    const bytes ours16 = make_frame({{0xFE, 0x01, 0x02, 0x03, 0x00, 0x00}, {0xFE, 0x02, 0x02, 0x04, 0x05, 0x06}});
    const frame_desc d16 = desc_of(2, 3, 1, 16);
    CHECK(rle::encode(pixels16.data(), pixels16.size(), d16) == ours16);
    CHECK(decode(ours16, d16) == pixels16);

    // 1 x 2 RGB 8-bit: three segments R, G, B; output colour-by-pixel.
    const bytes rgb = make_frame({{0xFF, 0x10}, {0x01, 0x20, 0x21}, {0x01, 0x30, 0x31}});
    CHECK(decode(rgb, desc_of(1, 2, 3, 8)) == (bytes{0x10, 0x20, 0x30, 0x10, 0x21, 0x31}));

    // 1 x 1 RGB 32-bit: 12 segments, MSB first within each sample.
    std::vector<bytes> segs;
    for (std::uint8_t i = 0; i < 12; ++i) segs.push_back({0x00, std::uint8_t(0xA0 + i)});
    CHECK(decode(make_frame(segs), desc_of(1, 1, 3, 32)) ==
          (bytes{0xA3, 0xA2, 0xA1, 0xA0, 0xA7, 0xA6, 0xA5, 0xA4, 0xAB, 0xAA, 0xA9, 0xA8}));

    // 1 x 1 64-bit: 8 segments.
    segs.clear();
    for (std::uint8_t i = 0; i < 8; ++i) segs.push_back({0x00, std::uint8_t(i + 1)});
    CHECK(decode(make_frame(segs), desc_of(1, 1, 1, 64)) == (bytes{8, 7, 6, 5, 4, 3, 2, 1}));
}

void test_packbits_cases() {
    current_test = "packbits cases";
    const frame_desc d = desc_of(1, 300, 1, 8);
    // -128 (0x80) is a no-op; -127 (0x81) repeats the next byte 128 times; 127 copies 128
    // literal bytes; -43 (0xD5) repeats 44 times.
    bytes seg = {0x80, 0x81, 0x07, 0x80, 0x7F};
    for (int i = 0; i < 128; ++i) seg.push_back(std::uint8_t(i));
    seg.insert(seg.end(), {0x80, 0xD5, 0x09});
    bytes expected(128, 0x07);
    for (int i = 0; i < 128; ++i) expected.push_back(std::uint8_t(i));
    expected.insert(expected.end(), 44, 0x09);
    CHECK(decode(make_frame({seg}), d) == expected);

    // Encoding: runs longer than 128 split into full replicate runs; literals longer than
    // 128 split into full literal runs.
    bytes pixels(300, 0x55);
    bytes enc = rle::encode(pixels.data(), pixels.size(), d);
    CHECK(enc.size() == 64 + 6);
    CHECK((bytes(enc.begin() + 64, enc.end()) == bytes{0x81, 0x55, 0x81, 0x55, 0xD5, 0x55}));
    for (int i = 0; i < 300; ++i) pixels[i] = std::uint8_t(i * 7);
    enc = rle::encode(pixels.data(), pixels.size(), d);
    CHECK(enc.size() == 64 + 300 + 3 + 1);  // headers 127, 127, 43, one pad byte
    if (enc.size() > 64 + 129 + 129) {
        CHECK(enc[64] == 127 && enc[64 + 129] == 127 && enc[64 + 258] == 43);
    }
    CHECK(decode(enc, d) == pixels);
}

bytes test_pixels(std::mt19937& rng, std::size_t n, int kind) {
    bytes p(n);
    std::uniform_int_distribution<int> byte(0, 255);
    if (kind == 0) {
        for (auto& x : p) x = std::uint8_t(byte(rng));
    } else if (kind == 1) {
        static const std::size_t lengths[] = {1, 1, 2, 2, 3, 5, 127, 128, 129, 130, 300};
        std::size_t i = 0;
        while (i < n) {
            const std::uint8_t v = std::uint8_t(byte(rng) & 3);
            const std::size_t len = lengths[rng() % 11];
            for (std::size_t k = 0; k < len && i < n; ++k) p[i++] = v;
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) p[i] = std::uint8_t((i / 5) % 7);
    }
    return p;
}

void test_round_trips() {
    current_test = "round trips";
    std::mt19937 rng(12345);
    const std::pair<std::uint32_t, std::uint32_t> sizes[] = {{1, 1}, {1, 2}, {3, 5}, {7, 1}, {17, 129}, {64, 257}, {2, 300}};
    for (std::uint16_t bits : {8, 16, 32, 64}) {
        for (std::uint16_t samples : {1, 3}) {
            if (samples * bits / 8 > 15) continue;
            for (const auto& [rows, columns] : sizes) {
                for (int kind = 0; kind < 3; ++kind) {
                    const frame_desc d = desc_of(rows, columns, samples, bits);
                    const bytes pixels = test_pixels(rng, out_bytes(d), kind);
                    const bytes enc = rle::encode(pixels.data(), pixels.size(), d);
                    const std::string what = std::to_string(bits) + " bits x " + std::to_string(samples) + ", " +
                                             std::to_string(rows) + " x " + std::to_string(columns);
                    if (enc.size() % 2) fail(what + ": odd encoded length");
                    if (decode(enc, d) != pixels) fail(what + ": round trip differs");
                }
            }
        }
    }
    // 64-bit RGB needs 24 segments: not encodable.
    const frame_desc d = desc_of(1, 1, 3, 64);
    bytes px(24);
    expect_error<codec_error>([&] { rle::encode(px.data(), px.size(), d); }, codec_errc::bad_argument, "24 segments");
    expect_error<codec_error>([&] { rle::encode(px.data(), px.size() - 1, desc_of(1, 1, 1, 64)); },
                              codec_errc::bad_argument, "input size");
    // An empty frame (no rows or no columns) is refused both ways.
    const frame_desc empty = desc_of(0, 5, 1, 16);
    expect_error<codec_error>([&] { rle::encode(px.data(), 0, empty); }, codec_errc::bad_argument, "empty encode");
    const bytes header(64, 0);
    expect_error<codec_error>([&] { rle::decode(header.data(), header.size(), empty, px.data(), 0); },
                              codec_errc::bad_argument, "empty decode");
}

// What pydicom's decoder accepts from damaged frames, and what it rejects.
void test_tolerance() {
    current_test = "tolerance";
    const frame_desc d = desc_of(1, 4, 1, 8);
    // A segment that decodes to more than the pixels is cut (pydicom warns).
    CHECK(decode(make_frame({{0xF9, 0x05}}), d) == (bytes{5, 5, 5, 5}));
    CHECK(decode(make_frame({{0x05, 1, 2, 3, 4, 5, 6}}), d) == (bytes{1, 2, 3, 4}));
    // A literal cut short by the end of the frame copies what is there.
    CHECK(decode(make_frame({{0x09, 1, 2, 3, 4}}), d) == (bytes{1, 2, 3, 4}));
    // ... and by the start of the next segment.
    const frame_desc d16 = desc_of(1, 2, 1, 16);
    CHECK(decode(make_frame({{0x05, 0x11, 0x12}, {0x01, 0x21, 0x22}}), d16) == (bytes{0x21, 0x11, 0x22, 0x12}));
    // Trailing bytes and header bytes past the last offset are ignored.
    bytes f = make_frame({{0x03, 1, 2, 3, 4, 0x80, 0x00}});
    CHECK(decode(f, d) == (bytes{1, 2, 3, 4}));
    // Unused offsets are not looked at.
    f[40] = 0xFF;
    CHECK(decode(f, d) == (bytes{1, 2, 3, 4}));

    // Too few bytes from a segment is an error.
    expect_error<codec_error>([&] { decode(make_frame({{0x02, 1, 2, 3}}), d); },
                              codec_errc::truncated, "short segment");
    expect_error<codec_error>([&] { decode(make_frame({{0x02, 1, 2, 3, 0xFF}}), d); },
                              codec_errc::truncated, "replicate without value");
    expect_error<codec_error>([&] { decode(make_frame({{0x09, 1, 2}}), d); }, codec_errc::truncated, "short literal");
    // Offsets out of order give an empty segment.
    bytes g = make_frame({{0x01, 1, 2}, {0x01, 3, 4}});
    g[4] = 66;
    g[8] = 64;
    expect_error<codec_error>([&] { decode(g, d16); }, codec_errc::truncated, "offsets out of order");
    // An offset past the end gives an empty segment.
    g = make_frame({{0x01, 1, 2}, {0x01, 3, 4}});
    g[9] = 1;
    expect_error<codec_error>([&] { decode(g, d16); }, codec_errc::truncated, "offset past the end");
}

void test_errors() {
    current_test = "errors";
    const frame_desc d = desc_of(2, 2, 1, 8);
    const bytes good = make_frame({{0xFD, 0x07}});
    bytes out(4);
    CHECK(decode(good, d) == (bytes{7, 7, 7, 7}));
    for (std::size_t n = 0; n < 64; ++n) {
        expect_error<codec_error>([&] { rle::decode(good.data(), n, d, out.data(), out.size()); },
                                  codec_errc::truncated, "header of " + std::to_string(n));
    }
    bytes b = good;
    b[0] = 16;
    expect_error<codec_error>([&] { decode(b, d); }, codec_errc::bad_header, "16 segments");
    b[0] = 2;
    expect_error<codec_error>([&] { decode(b, d); }, codec_errc::bad_header, "2 segments for 8-bit grey");
    expect_error<codec_error>([&] { decode(good, desc_of(2, 2, 1, 16)); },
                              codec_errc::bad_header, "1 segment for 16-bit");
    expect_error<codec_error>([&] { decode(good, desc_of(2, 2, 3, 8)); }, codec_errc::bad_header, "1 segment for RGB");
    b = good;
    b[4] = 63;
    expect_error<codec_error>([&] { decode(b, d); }, codec_errc::bad_header, "offset inside the header");
    b[4] = 0;
    expect_error<codec_error>([&] { decode(b, d); }, codec_errc::bad_header, "offset 0");
    expect_error<codec_error>([&] { rle::decode(good.data(), good.size(), d, out.data(), 3); },
                              codec_errc::bad_argument, "output too small");
    for (std::uint16_t bits : {0, 1, 12, 24, 128}) {
        expect_error<codec_error>([&] { decode(good, desc_of(2, 2, 1, bits)); },
                                  codec_errc::unsupported, std::to_string(bits) + " bits");
    }
    expect_error<codec_error>([&] { rle::decode(good.data(), good.size(), desc_of(2, 2, 0, 8), out.data(), 4); },
                              codec_errc::bad_argument, "0 samples");
    // Dimensions over the frame size limit are refused before anything is touched.
    expect_error<codec_error>([&] {
        rle::decode(good.data(), good.size(), desc_of(0xFFFFFFFF, 0xFFFFFFFF, 3, 64), out.data(), out.size());
    }, codec_errc::too_large, "huge");
    expect_error<codec_error>([&] { rle::encode(good.data(), good.size(), desc_of(100000, 100000, 1, 8)); },
                              codec_errc::too_large, "huge encode");
}

// ---------------------------------------------------------------------------
// The corpus: hashes of what pydicom's RLE decoder and pylibjpeg-rle return (the two agree),
// as colour-by-pixel little-endian bytes.

struct corpus_frame {
    const char* path;
    std::uint32_t frame;
    std::uint32_t rows, columns;
    std::uint16_t samples, bits;
    std::uint64_t hash;
};

const corpus_frame corpus_frames[] = {
    {"pydicom-data/OBXXXX1A_rle.dcm", 0, 600, 800, 1, 8, 0xc54e4307e8951cf9ull},
    {"pydicom-data/OBXXXX1A_rle_2frame.dcm", 0, 600, 800, 1, 8, 0xc54e4307e8951cf9ull},
    {"pydicom-data/OBXXXX1A_rle_2frame.dcm", 1, 600, 800, 1, 8, 0x1fba2c3be605ec2dull},
    {"pydicom-data/emri_small_RLE.dcm", 0, 64, 64, 1, 16, 0x950a0a291aac6686ull},
    {"pydicom-data/emri_small_RLE.dcm", 5, 64, 64, 1, 16, 0x747b04f9d8f49af9ull},
    {"pydicom-data/emri_small_RLE.dcm", 9, 64, 64, 1, 16, 0x924f061fcc0d2ffaull},
    {"pylibjpeg-data/ds/RLELossless/MR_small_RLE.dcm", 0, 64, 64, 1, 16, 0x51433421a5f7529aull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle.dcm", 0, 100, 100, 3, 8, 0xe9719e4c815ac1ddull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_16bit.dcm", 0, 100, 100, 3, 16, 0x7e08f1af21cfba55ull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_16bit_2frame.dcm", 1, 100, 100, 3, 16, 0xd39c4bf435b3f795ull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_2frame.dcm", 0, 100, 100, 3, 8, 0xe9719e4c815ac1ddull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_2frame.dcm", 1, 100, 100, 3, 8, 0x996f34e3447a303dull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_32bit.dcm", 0, 100, 100, 3, 32, 0x47fce74c0e707a85ull},
    {"pylibjpeg-data/ds/RLELossless/SC_rgb_rle_32bit_2frame.dcm", 1, 100, 100, 3, 32, 0xa1d0330efef6c885ull},
    {"pylibjpeg-data/ds/RLELossless/rtdose_rle.dcm", 0, 10, 10, 1, 32, 0x3cde7d999694fa09ull},
    {"pylibjpeg-data/ds/RLELossless/rtdose_rle.dcm", 7, 10, 10, 1, 32, 0xad7f000ed888089full},
    {"pylibjpeg-data/ds/RLELossless/rtdose_rle.dcm", 14, 10, 10, 1, 32, 0x3e9a66953e564356ull},
    {"pylibjpeg-data/ds/RLELossless/rtdose_rle_1frame.dcm", 0, 10, 10, 1, 32, 0x3cde7d999694fa09ull},
};

const std::string corpus_dir = "../shared/corpus/";

bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The fragments of frame `index` of the file's encapsulated Pixel Data, joined.
bytes encapsulated_frame(const bytes& file, std::uint32_t index) {
    namespace parse = turbodicom::parse;
    const parse::file_index fi = parse::read_file(file.data(), file.size(), parse::read_options{});
    std::uint32_t frames = 1;
    for (const parse::element& e : fi.dataset.elements) {
        if (e.tag == 0x00280008u && e.parent == -1 && e.kind == parse::value_kind::bytes) {
            // Number of Frames (IS): ASCII digits, maybe padded.
            std::uint32_t n = 0;
            for (std::uint64_t i = 0; i < e.value_size; ++i) {
                const char ch = char(file[e.value_offset + i]);
                if (ch >= '0' && ch <= '9') n = n * 10 + std::uint32_t(ch - '0');
            }
            if (n > 0) frames = n;
        }
        if (e.tag != 0x7FE00010u || e.parent != -1) continue;
        const std::uint8_t* value = file.data() + e.value_offset;
        const parse::encapsulated_frames ef = parse::index_encapsulated(value, std::size_t(e.value_size), frames);
        bytes out;
        if (index < ef.frames.size()) {
            for (const parse::byte_span& s : ef.frames[index]) out.insert(out.end(), value + s.offset, value + s.offset + s.length);
        }
        return out;
    }
    return {};
}

void test_corpus() {
    current_test = "corpus";
    if (!std::filesystem::exists(corpus_dir)) {
        std::printf("rle_test: %s not found, corpus tests skipped\n", corpus_dir.c_str());
        return;
    }
    std::mt19937 rng(7);
    for (const corpus_frame& c : corpus_frames) {
        const std::string path = corpus_dir + c.path;
        if (!std::filesystem::exists(path)) {
            std::printf("rle_test: %s not found, skipped\n", path.c_str());
            continue;
        }
        const std::string what = std::string(c.path) + " frame " + std::to_string(c.frame);
        const bytes frame = encapsulated_frame(read_file(path), c.frame);
        if (frame.empty()) {
            fail(what + ": no frame found");
            continue;
        }
        const frame_desc d = desc_of(c.rows, c.columns, c.samples, c.bits);
        bytes out;
        try {
            out = decode(frame, d);
        } catch (const std::exception& e) {
            fail(what + ": " + e.what());
            continue;
        }
        if (fnv1a(out) != c.hash) fail(what + ": decoded pixels differ from pydicom's");

        // Re-encoded, it decodes to the same pixels.
        const bytes again = rle::encode(out.data(), out.size(), d);
        if (decode(again, d) != out) fail(what + ": re-encoding does not round trip");

        // Damaged copies: every input returns or raises codec_error, never more.
        bytes scratch(out.size());
        auto must_not_crash = [&](const bytes& damaged, const std::string& how) {
            try {
                rle::decode(damaged.data(), damaged.size(), d, scratch.data(), scratch.size());
            } catch (const codec::codec_error&) {
            } catch (const std::exception& e) {
                fail(what + " " + how + ": unexpected exception " + e.what());
            }
        };
        const std::size_t step = frame.size() > 4096 ? frame.size() / 512 : 1;
        for (std::size_t n = 0; n < frame.size(); n += step) must_not_crash(bytes(frame.begin(), frame.begin() + n), "truncated");
        for (int k = 0; k < 200; ++k) {
            bytes damaged = frame;
            const std::size_t at = rng() % (k < 100 ? std::min<std::size_t>(64, damaged.size()) : damaged.size());
            damaged[at] = std::uint8_t(rng());
            must_not_crash(damaged, "with a byte changed");
        }
    }
}

// Frames decode concurrently: no shared state.
void test_threads() {
    current_test = "threads";
    std::mt19937 rng(99);
    const frame_desc d = desc_of(64, 255, 3, 16);
    const bytes pixels = test_pixels(rng, out_bytes(d), 1);
    const bytes enc = rle::encode(pixels.data(), pixels.size(), d);
    std::vector<int> ok(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            int good = 1;
            for (int i = 0; i < 50; ++i) {
                bytes out(pixels.size());
                rle::decode(enc.data(), enc.size(), d, out.data(), out.size());
                if (out != pixels) good = 0;
                if (rle::encode(out.data(), out.size(), d) != enc) good = 0;
            }
            ok[t] = good;
        });
    }
    for (auto& t : threads) t.join();
    for (int t = 0; t < 4; ++t) CHECK(ok[t] == 1);
}

}  // namespace

int main() {
    turbodicom::test::run({test_known_streams, test_packbits_cases, test_round_trips, test_tolerance, test_errors,
                           test_corpus, test_threads});
    return turbodicom::test::exit_code("rle_test");
}
