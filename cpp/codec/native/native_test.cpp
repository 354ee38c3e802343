// Tests of native pixel data (codec/native/native.hpp): bit-packed frames that start
// inside a byte, big-endian byte order and pydicom's OW pairwise swap of 8-bit data,
// planar configuration, the bounds of every frame, unused-bit correction compared with
// numpy's shifts, YBR_FULL_422 expansion, and the native files of ../shared/corpus
// against hashes of what pydicom returns for them (pixel_array(raw=True) as
// little-endian bytes, with and without correct_unused_bits).
// Plain executable: prints one line per failure, returns non-zero on failure.
// The working directory is the repository root (set by CMake).
#include "codec/native/native.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "core/test_support.hpp"
#include "parse/parser.hpp"

namespace {

namespace codec = turbodicom::codec;
namespace native = turbodicom::codec::native;
using codec::codec_errc;
using codec::codec_error;
using codec::frame_desc;
using bytes = std::vector<std::uint8_t>;
using turbodicom::test::current_test;
using turbodicom::test::expect_error;
using turbodicom::test::fail;

frame_desc desc_of(std::uint32_t rows, std::uint32_t columns, std::uint16_t samples, std::uint16_t bits,
                   std::uint16_t planar = 0) {
    frame_desc d;
    d.rows = rows;
    d.columns = columns;
    d.samples_per_pixel = samples;
    d.bits_allocated = bits;
    d.bits_stored = bits;
    d.planar_configuration = planar;
    return d;
}

std::size_t out_bytes(const frame_desc& d) {
    return std::size_t(d.samples()) * (d.bits_allocated == 1 ? 1 : d.bits_allocated / 8);
}

bytes frame(const bytes& src, std::uint64_t index, const frame_desc& d, bool big_endian = false, bool ow = false) {
    bytes out(out_bytes(d), 0xCD);
    native::decode_frame(src.data(), src.size(), index, d, big_endian, ow, out.data(), out.size());
    return out;
}

std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
std::uint64_t fnv1a(const bytes& b) { return fnv1a(b.data(), b.size()); }

// ---------------------------------------------------------------------------

void test_frame_bits() {
    current_test = "frame bits";
    CHECK(native::frame_bits(desc_of(510, 510, 1, 1)) == 260100);
    CHECK(native::frame_bits(desc_of(3, 5, 3, 16)) == 720);
    CHECK(native::frame_bits(desc_of(2, 2, 1, 64)) == 256);
    CHECK(native::frame_bits(desc_of(0, 7, 1, 8)) == 0);
    expect_error<codec_error>([] { native::frame_bits(desc_of(2, 2, 1, 12)); }, codec_errc::unsupported, "12 bits");
    expect_error<codec_error>([] { native::frame_bits(desc_of(2, 2, 0, 8)); }, codec_errc::bad_argument, "0 samples");
    expect_error<codec_error>([] { native::frame_bits(desc_of(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 64)); },
                              codec_errc::too_large, "huge");
}

void test_bit_packed() {
    current_test = "bit packed";
    // Bit k is bit k % 8 of byte k / 8. Frames of 5 pixels follow each other bit by bit.
    const bytes src = {0xB1, 0xFF, 0x00};  // 1000 1101 | 1111 1111 | 0000 0000 (LSB first)
    const frame_desc d = desc_of(1, 5, 1, 1);
    CHECK(frame(src, 0, d) == (bytes{1, 0, 0, 0, 1}));
    CHECK(frame(src, 1, d) == (bytes{1, 0, 1, 1, 1}));
    CHECK(frame(src, 2, d) == (bytes{1, 1, 1, 1, 1}));
    CHECK(frame(src, 3, d) == (bytes{1, 0, 0, 0, 0}));
    expect_error<codec_error>([&] { frame(src, 4, d); }, codec_errc::truncated, "frame 5 of 24 bits");
    // Byte order does not apply to packed bits.
    CHECK(frame(src, 1, d, true) == (bytes{1, 0, 1, 1, 1}));
    // Whole bytes in the middle of a frame that starts at bit 3.
    const frame_desc wide = desc_of(1, 19, 1, 1);
    bytes big = {0xFF, 0x5A, 0xA5, 0x0F, 0x00};
    const bytes f1 = frame(big, 1, wide);  // bits 19..37
    bytes expected;
    for (unsigned k = 19; k < 38; ++k) expected.push_back((big[k / 8] >> (k % 8)) & 1);
    CHECK(f1 == expected);
    expect_error<codec_error>([&] { frame(big, 2, wide); }, codec_errc::truncated, "frame 2 of 40 bits");
    // Planar 1-bit data with 2 samples is reordered like any other.
    CHECK(frame(bytes{0x0D}, 0, desc_of(1, 4, 2, 1, 1)) == (bytes{1, 0, 0, 0, 1, 0, 1, 0}));
}

void test_byte_order_and_planes() {
    current_test = "byte order and planes";
    const bytes src = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    CHECK(frame(src, 0, desc_of(1, 4, 1, 16)) == src);
    CHECK(frame(src, 0, desc_of(1, 4, 1, 16), true) == (bytes{2, 1, 4, 3, 6, 5, 8, 7}));
    CHECK(frame(src, 1, desc_of(1, 2, 1, 16), true) == (bytes{6, 5, 8, 7}));
    CHECK(frame(src, 0, desc_of(1, 2, 1, 32), true) == (bytes{4, 3, 2, 1, 8, 7, 6, 5}));
    CHECK(frame(src, 0, desc_of(1, 1, 1, 64), true) == (bytes{8, 7, 6, 5, 4, 3, 2, 1}));
    CHECK(frame(src, 0, desc_of(1, 8, 1, 8), true) == src);  // 8-bit OB: no swap
    // Planar: RR GG BB -> RGB RGB.
    const bytes planar = {1, 2, 3, 4, 5, 6};
    CHECK(frame(planar, 0, desc_of(1, 2, 3, 8, 1)) == (bytes{1, 3, 5, 2, 4, 6}));
    CHECK(frame(planar, 0, desc_of(1, 2, 3, 8, 0)) == planar);
    // Planar 16-bit big endian: samples swapped, then interleaved.
    const bytes p16 = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
    CHECK(frame(p16, 0, desc_of(2, 1, 3, 16, 1), true) == (bytes{1, 0, 3, 0, 5, 0, 2, 0, 4, 0, 6, 0}));
    bytes out(6);
    native::planar_to_interleaved(planar.data(), out.data(), 3, 2, 1);
    CHECK(out == (bytes{1, 4, 2, 5, 3, 6}));
    native::planar_to_interleaved(planar.data(), out.data(), 1, 2, 3);  // 3-byte samples: the general path
    CHECK(out == (bytes{1, 2, 3, 4, 5, 6}));
}

// 8-bit big endian OW: the value's bytes are swapped pairwise, so an odd-length frame
// starts or ends inside a pair (pydicom reads one byte more and drops it).
void test_ow_swap() {
    current_test = "OW swap";
    // Three frames of 1 x 1 x 3 (9 bytes + 1 padding byte): logical 1..9 stored as pairs swapped.
    const bytes src = {2, 1, 4, 3, 6, 5, 8, 7, 0, 9};
    const frame_desc d = desc_of(1, 1, 3, 8);
    CHECK(frame(src, 0, d, true, true) == (bytes{1, 2, 3}));
    CHECK(frame(src, 1, d, true, true) == (bytes{4, 5, 6}));
    CHECK(frame(src, 2, d, true, true) == (bytes{7, 8, 9}));
    expect_error<codec_error>([&] { frame(src, 3, d, true, true); }, codec_errc::truncated, "frame 4");
    // Without its padding byte the last frame's last byte has no partner.
    const bytes cut(src.begin(), src.end() - 1);
    expect_error<codec_error>([&] { frame(cut, 2, d, true, true); }, codec_errc::truncated, "no padding");
    // Even-length frames.
    CHECK(frame(src, 1, desc_of(1, 2, 1, 8), true, true) == (bytes{3, 4}));
    expect_error<codec_error>([&] { frame(src, 0, desc_of(1, 1, 1, 16), true, true); },
                              codec_errc::bad_argument, "OW swap of 16-bit");
}

void test_bounds() {
    current_test = "bounds";
    const bytes src(100, 7);
    const frame_desc d = desc_of(5, 5, 1, 16);  // 50 bytes a frame
    CHECK(frame(src, 1, d) == bytes(50, 7));
    expect_error<codec_error>([&] { frame(src, 2, d); }, codec_errc::truncated, "frame 3");
    expect_error<codec_error>([&] { frame(src, UINT64_MAX, d); }, codec_errc::truncated, "frame 2^64");
    expect_error<codec_error>([&] { frame(src, UINT64_MAX, desc_of(3, 3, 1, 1)); },
                              codec_errc::truncated, "1-bit frame 2^64");
    expect_error<codec_error>([&] { frame(src, std::uint64_t(1) << 61, desc_of(1, 8, 1, 1)); },
                              codec_errc::truncated, "1-bit frame 2^61");
    expect_error<codec_error>([&] { frame(bytes(49), 0, d); }, codec_errc::truncated, "short by one");
    bytes out(49);
    expect_error<codec_error>(
        [&] { native::decode_frame(src.data(), src.size(), 0, d, false, false, out.data(), out.size()); },
        codec_errc::bad_argument, "output too small");
    expect_error<codec_error>([&] { frame(src, 0, desc_of(1, 1, 1, 24)); }, codec_errc::unsupported, "24 bits");
    // Nothing is read for an empty frame.
    native::decode_frame(nullptr, 0, 5, desc_of(0, 5, 1, 16), false, false, out.data(), 0);
}

const struct {
    unsigned bits_allocated, bits_stored;
    bool is_signed;
    std::uint64_t hash;
} shift_cases[] = {
    {8, 0, false, 0x86062d4c200833dfull},
    {8, 0, true, 0x86062d4c200833dfull},
    {8, 1, false, 0xb8516a351e05de21ull},
    {8, 1, true, 0xe07c672ed2984d9dull},
    {8, 5, false, 0x5c5314d62fa78315ull},
    {8, 5, true, 0x5cde160507837e75ull},
    {8, 7, false, 0x73727af9f6b3deb5ull},
    {8, 7, true, 0x66448d44b29f4cb5ull},
    {8, 8, false, 0xebd932fb37d929b5ull},
    {8, 8, true, 0xebd932fb37d929b5ull},
    {16, 0, false, 0xa597339b4dc4d7edull},
    {16, 0, true, 0xa597339b4dc4d7edull},
    {16, 1, false, 0x23c361764424406dull},
    {16, 1, true, 0xf75a57e2b4967fe1ull},
    {16, 9, false, 0x1bea1b9f8533aee6ull},
    {16, 9, true, 0x29e1759862d34c9cull},
    {16, 13, false, 0x885200f042337e4aull},
    {16, 13, true, 0x81332fca55e352caull},
    {16, 15, false, 0xc2f1037bed0d162aull},
    {16, 15, true, 0x354fd6ecf1284eaaull},
    {16, 16, false, 0x479ff41bb5f15d2aull},
    {16, 16, true, 0x479ff41bb5f15d2aull},
    {32, 0, false, 0x1d2483ad5f2163f5ull},
    {32, 0, true, 0x1d2483ad5f2163f5ull},
    {32, 1, false, 0x18b9e71668897424ull},
    {32, 1, true, 0x1c34d7d117a3e419ull},
    {32, 17, false, 0x450e1891c6538c9full},
    {32, 17, true, 0x32d805dac1a2d6a4ull},
    {32, 29, false, 0x68b932e8c579cbe8ull},
    {32, 29, true, 0x86755b9b217b5d48ull},
    {32, 31, false, 0x0d900abf7c93df08ull},
    {32, 31, true, 0x7d791d47b2968e88ull},
    {32, 32, false, 0x0cdbf9facd13a488ull},
    {32, 32, true, 0x0cdbf9facd13a488ull},
    {64, 0, false, 0x870f7c2ceafad9c5ull},
    {64, 0, true, 0x870f7c2ceafad9c5ull},
    {64, 1, false, 0x2900e2dbf3616464ull},
    {64, 1, true, 0x04fa735f82ae314dull},
    {64, 33, false, 0x2e9ef508cb4609bfull},
    {64, 33, true, 0x9fce7063334cbcafull},
    {64, 61, false, 0xc6dbd2251a452f9cull},
    {64, 61, true, 0x9284a6d7b81f17dcull},
    {64, 63, false, 0x5f6c0b5d433c739cull},
    {64, 63, true, 0x2e58805178f3f01cull},
    {64, 64, false, 0xe57bbcc481dea21cull},
    {64, 64, true, 0xe57bbcc481dea21cull},
};

// Hashes of numpy's left_shift then right_shift by bits_allocated - bits_stored over the
// same pseudo-random bytes, in unsigned and signed dtypes.
void test_correct_unused_bits() {
    current_test = "correct unused bits";
    const std::size_t count = 257;
    for (const auto& c : shift_cases) {
        bytes data(count * c.bits_allocated / 8);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::uint8_t((std::uint64_t(i) * 2654435761u) >> 13);
        native::correct_unused_bits(data.data(), count, c.bits_allocated, c.bits_stored, c.is_signed);
        if (fnv1a(data) != c.hash) {
            fail(std::to_string(c.bits_allocated) + " allocated, " + std::to_string(c.bits_stored) + " stored, " +
                 (c.is_signed ? "signed" : "unsigned") + ": differs from numpy");
        }
    }
    // pydicom's own example: 5 bits stored, signed: 0001 1001 -> 1111 1001.
    bytes v = {0x19, 0x0F, 0xFF};
    native::correct_unused_bits(v.data(), 3, 8, 5, true);
    CHECK(v == (bytes{0xF9, 0x0F, 0xFF}));
    v = {0x19, 0x0F, 0xFF};
    native::correct_unused_bits(v.data(), 3, 8, 5, false);
    CHECK(v == (bytes{0x19, 0x0F, 0x1F}));
    v = {0x00, 0x08, 0xFF, 0xF7};  // 12 of 16 bits, signed: 0x0800 -> 0xF800, 0xF7FF -> 0x07FF
    native::correct_unused_bits(v.data(), 2, 16, 12, true);
    CHECK(v == (bytes{0x00, 0xF8, 0xFF, 0x07}));
    expect_error<codec_error>([&] { native::correct_unused_bits(v.data(), 2, 16, 17, false); },
                              codec_errc::bad_argument, "17 of 16");
    expect_error<codec_error>([&] { native::correct_unused_bits(v.data(), 2, 12, 8, false); },
                              codec_errc::bad_argument, "12 allocated");
}

void test_ybr_full_422() {
    current_test = "YBR_FULL_422";
    const frame_desc d = desc_of(1, 4, 3, 8);
    CHECK(native::ybr_full_422_frame_bytes(d) == 8);
    // Two frames of Y1 Y2 Cb Cr pairs.
    const bytes src = {10, 11, 20, 30, 12, 13, 21, 31, 40, 41, 50, 60, 42, 43, 51, 61};
    bytes out(12);
    native::ybr_full_422_to_full(src.data(), src.size(), 0, d, false, out.data(), out.size());
    CHECK(out == (bytes{10, 20, 30, 11, 20, 30, 12, 21, 31, 13, 21, 31}));
    native::ybr_full_422_to_full(src.data(), src.size(), 1, d, false, out.data(), out.size());
    CHECK(out == (bytes{40, 50, 60, 41, 50, 60, 42, 51, 61, 43, 51, 61}));
    expect_error<codec_error>(
        [&] { native::ybr_full_422_to_full(src.data(), src.size(), 2, d, false, out.data(), out.size()); },
        codec_errc::truncated, "frame 3");
    // 16-bit big endian.
    const bytes s16 = {0, 1, 0, 2, 0, 3, 0, 4};
    bytes o16(12);
    native::ybr_full_422_to_full(s16.data(), s16.size(), 0, desc_of(1, 2, 3, 16), true, o16.data(), o16.size());
    CHECK(o16 == (bytes{1, 0, 3, 0, 4, 0, 2, 0, 3, 0, 4, 0}));
    expect_error<codec_error>(
        [&] { native::ybr_full_422_to_full(src.data(), src.size(), 0, desc_of(1, 3, 3, 8), false, out.data(), out.size()); },
        codec_errc::bad_argument, "odd pixels");
    expect_error<codec_error>([&] { native::ybr_full_422_frame_bytes(desc_of(1, 2, 1, 8)); },
                              codec_errc::bad_argument, "1 sample");
    expect_error<codec_error>(
        [&] { native::ybr_full_422_to_full(src.data(), src.size(), 0, d, false, out.data(), 11); },
        codec_errc::bad_argument, "output too small");
}

// ---------------------------------------------------------------------------
// The corpus: pydicom's pixel_array(ds, index=i, raw=True) as little-endian bytes, without
// and with correct_unused_bits.

struct corpus_frame {
    const char* path;
    std::uint32_t frame;
    std::uint32_t rows, columns;
    std::uint16_t samples, bits_allocated, bits_stored, pixel_representation, planar;
    const char* vr;
    const char* syntax;  // the transfer syntax UID's tail: 1.2 implicit, 2.1 explicit LE, 2.2 big endian
    std::uint32_t frames;
    std::uint64_t raw_hash, corrected_hash;
};

const corpus_frame corpus_frames[] = {
    {"pydicom-data/693_UNCI.dcm", 0, 512, 512, 1, 16, 14, 1, 0, "OW", "2.1", 1, 0x8906371a812b0b27ull, 0x8906371a812b0b27ull},
    {"pydicom-data/MR2_UNCR.dcm", 0, 1024, 1024, 1, 16, 12, 0, 0, "OW", "2.1", 1, 0x5b78f39e5b95d7e0ull, 0x5b78f39e5b95d7e0ull},
    {"pydicom-data/OBXXXX1A_2frame.dcm", 0, 600, 800, 1, 8, 8, 0, 0, "OW", "2.1", 2, 0xc54e4307e8951cf9ull, 0xc54e4307e8951cf9ull},
    {"pydicom-data/OBXXXX1A_2frame.dcm", 1, 600, 800, 1, 8, 8, 0, 0, "OW", "2.1", 2, 0x1fba2c3be605ec2dull, 0x1fba2c3be605ec2dull},
    {"pydicom-data/OBXXXX1A_expb_2frame.dcm", 0, 600, 800, 1, 8, 8, 0, 0, "OW", "2.2", 2, 0xc54e4307e8951cf9ull, 0xc54e4307e8951cf9ull},
    {"pydicom-data/OBXXXX1A_expb_2frame.dcm", 1, 600, 800, 1, 8, 8, 0, 0, "OW", "2.2", 2, 0x1fba2c3be605ec2dull, 0x1fba2c3be605ec2dull},
    {"pydicom-data/SC_rgb_32bit_2frame.dcm", 0, 100, 100, 3, 32, 32, 0, 0, "OB", "2.1", 2, 0x47fce74c0e707a85ull, 0x47fce74c0e707a85ull},
    {"pydicom-data/SC_rgb_32bit_2frame.dcm", 1, 100, 100, 3, 32, 32, 0, 0, "OB", "2.1", 2, 0xa1d0330efef6c885ull, 0xa1d0330efef6c885ull},
    {"pydicom-data/SC_rgb_dcmtk_ebcr_dcmd.dcm", 0, 100, 100, 3, 8, 8, 0, 0, "OW", "2.1", 1, 0x4664715136971badull, 0x4664715136971badull},
    {"pydicom-data/SC_rgb_expb_16bit_2frame.dcm", 0, 100, 100, 3, 16, 16, 0, 0, "OB", "2.2", 2, 0x7e08f1af21cfba55ull, 0x7e08f1af21cfba55ull},
    {"pydicom-data/SC_rgb_expb_16bit_2frame.dcm", 1, 100, 100, 3, 16, 16, 0, 0, "OB", "2.2", 2, 0xd39c4bf435b3f795ull, 0xd39c4bf435b3f795ull},
    {"pydicom-data/SC_rgb_expb_32bit_2frame.dcm", 0, 100, 100, 3, 32, 32, 0, 0, "OB", "2.2", 2, 0x47fce74c0e707a85ull, 0x47fce74c0e707a85ull},
    {"pydicom-data/SC_rgb_expb_32bit_2frame.dcm", 1, 100, 100, 3, 32, 32, 0, 0, "OB", "2.2", 2, 0xa1d0330efef6c885ull, 0xa1d0330efef6c885ull},
    {"pydicom-data/color-pl.dcm", 0, 120, 256, 3, 8, 8, 0, 1, "OW", "2.1", 1, 0xbfe8595885971455ull, 0xbfe8595885971455ull},
    {"pydicom-data/color-px.dcm", 0, 120, 256, 3, 8, 8, 0, 0, "OW", "2.1", 1, 0xbfe8595885971455ull, 0xbfe8595885971455ull},
    {"pydicom-data/eCT_Supplemental.dcm", 0, 512, 512, 1, 16, 16, 0, 0, "OW", "2.1", 2, 0x314b7aff4df8133eull, 0x314b7aff4df8133eull},
    {"pydicom-data/eCT_Supplemental.dcm", 1, 512, 512, 1, 16, 16, 0, 0, "OW", "2.1", 2, 0x3d0079e2cfe35cf8ull, 0x3d0079e2cfe35cf8ull},
    {"pydicom-data/emri_small_big_endian.dcm", 0, 64, 64, 1, 16, 12, 0, 0, "OW", "2.2", 10, 0x950a0a291aac6686ull, 0x950a0a291aac6686ull},
    {"pydicom-data/emri_small_big_endian.dcm", 5, 64, 64, 1, 16, 12, 0, 0, "OW", "2.2", 10, 0x747b04f9d8f49af9ull, 0x747b04f9d8f49af9ull},
    {"pydicom-data/emri_small_big_endian.dcm", 9, 64, 64, 1, 16, 12, 0, 0, "OW", "2.2", 10, 0x924f061fcc0d2ffaull, 0x924f061fcc0d2ffaull},
    {"pydicom-data/gdcm-US-ALOKA-16.dcm", 0, 480, 640, 1, 16, 16, 0, 0, "OW", "1.2", 1, 0x4a1d56a056c7946dull, 0x4a1d56a056c7946dull},
    {"pydicom-data/gdcm-US-ALOKA-16_big.dcm", 0, 480, 640, 1, 16, 16, 0, 0, "OW", "2.2", 1, 0x4a1d56a056c7946dull, 0x4a1d56a056c7946dull},
    {"pydicom-data/liver.dcm", 0, 512, 512, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0x8d934ad0bf5a1596ull, 0x8d934ad0bf5a1596ull},
    {"pydicom-data/liver.dcm", 1, 512, 512, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0xe036567f525e0a60ull, 0xe036567f525e0a60ull},
    {"pydicom-data/liver.dcm", 2, 512, 512, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0xd3ba678c0c017dbfull, 0xd3ba678c0c017dbfull},
    {"pydicom-data/liver_expb.dcm", 0, 512, 512, 1, 1, 1, 0, 0, "OB", "2.2", 3, 0x8d934ad0bf5a1596ull, 0x8d934ad0bf5a1596ull},
    {"pydicom-data/liver_expb.dcm", 1, 512, 512, 1, 1, 1, 0, 0, "OB", "2.2", 3, 0xe036567f525e0a60ull, 0xe036567f525e0a60ull},
    {"pydicom-data/liver_expb.dcm", 2, 512, 512, 1, 1, 1, 0, 0, "OB", "2.2", 3, 0xd3ba678c0c017dbfull, 0xd3ba678c0c017dbfull},
    {"pydicom-data/liver_nonbyte_aligned.dcm", 0, 510, 510, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0x99d0fe4ac43686deull, 0x99d0fe4ac43686deull},
    {"pydicom-data/liver_nonbyte_aligned.dcm", 1, 510, 510, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0xdb67e680e6499e58ull, 0xdb67e680e6499e58ull},
    {"pydicom-data/liver_nonbyte_aligned.dcm", 2, 510, 510, 1, 1, 1, 0, 0, "OB", "2.1", 3, 0x9b680e8104844acfull, 0x9b680e8104844acfull},
    {"pydicom-data/mlut_18.dcm", 0, 512, 512, 1, 16, 12, 1, 0, "OW", "2.1", 1, 0xfad8c511808b03d1ull, 0x2526bc92eaf0c481ull},
    {"pydicom-data/vlut_04.dcm", 0, 512, 512, 1, 8, 8, 0, 0, "OB", "2.1", 1, 0xbac9709f9f90967full, 0xbac9709f9f90967full},
};

const std::string corpus_dir = "../shared/corpus/";

bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void test_corpus() {
    current_test = "corpus";
    if (!std::filesystem::exists(corpus_dir)) {
        std::printf("native_test: %s not found, corpus tests skipped\n", corpus_dir.c_str());
        return;
    }
    namespace parse = turbodicom::parse;
    for (const corpus_frame& c : corpus_frames) {
        const std::string path = corpus_dir + c.path;
        if (!std::filesystem::exists(path)) {
            std::printf("native_test: %s not found, skipped\n", path.c_str());
            continue;
        }
        const std::string what = std::string(c.path) + " frame " + std::to_string(c.frame);
        const bytes file = read_file(path);
        const parse::file_index fi = parse::read_file(file.data(), file.size(), parse::read_options{});
        const parse::element* pixel_data = nullptr;
        for (const parse::element& e : fi.dataset.elements) {
            if (e.tag == 0x7FE00010u && e.parent == -1 && e.kind == parse::value_kind::bytes) pixel_data = &e;
        }
        if (!pixel_data) {
            fail(what + ": no Pixel Data");
            continue;
        }
        frame_desc d = desc_of(c.rows, c.columns, c.samples, c.bits_allocated, c.planar);
        d.bits_stored = c.bits_stored;
        d.is_signed = c.pixel_representation == 1;
        const bool big_endian = std::strcmp(c.syntax, "2.2") == 0;
        const bool ow_swapped = big_endian && c.bits_allocated == 8 && std::strcmp(c.vr, "OW") == 0;
        const std::uint8_t* value = file.data() + pixel_data->value_offset;
        const std::size_t size = std::size_t(pixel_data->value_size);
        bytes out(out_bytes(d));
        try {
            native::decode_frame(value, size, c.frame, d, big_endian, ow_swapped, out.data(), out.size());
        } catch (const std::exception& e) {
            fail(what + ": " + e.what());
            continue;
        }
        if (fnv1a(out) != c.raw_hash) fail(what + ": pixels differ from pydicom's");
        if (c.bits_allocated > 1) {
            native::correct_unused_bits(out.data(), d.samples(), d.bits_allocated, d.bits_stored, d.is_signed);
            if (fnv1a(out) != c.corrected_hash) fail(what + ": corrected pixels differ from pydicom's");
        }
        // The frame after the last is past the data (or past Number of Frames' worth of it).
        const std::uint64_t frame_bytes = (native::frame_bits(d) + 7) / 8;
        if (std::uint64_t(size) < (std::uint64_t(c.frames) + 1) * frame_bytes) {
            expect_error<codec_error>([&] {
                native::decode_frame(value, size, c.frames, d, big_endian, ow_swapped, out.data(), out.size());
            }, codec_errc::truncated, what + " frame after the last");
        }
    }
}

}  // namespace

int main() {
    turbodicom::test::run({test_frame_bits, test_bit_packed, test_byte_order_and_planes, test_ow_swap, test_bounds,
                           test_correct_unused_bits, test_ybr_full_422, test_corpus});
    return turbodicom::test::exit_code("native_test");
}
