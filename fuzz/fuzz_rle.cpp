// libFuzzer target for the RLE Lossless codec (codec/rle/rle.hpp).
//
// The first 3 bytes choose a small frame description (rows, columns, samples and bits
// allocated); the rest is the frame. Every input must decode or raise codec_error;
// anything else (a crash, a sanitizer report, another exception) is a bug. A frame that
// decodes is encoded again, and that must decode to the same pixels.
//
// Build:  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Icpp fuzz/fuzz_rle.cpp
//           cpp/codec/rle/rle_decode.cpp cpp/codec/rle/rle_encode.cpp cpp/codec/common/codec_error.cpp
// Run:    ./fuzz_rle -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/rle/rle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace turbodicom::codec;
    if (size < 3) return 0;
    frame_desc desc;
    desc.rows = data[0] & 0x3F;     // 0..63
    desc.columns = data[1] & 0x7F;  // 0..127
    static constexpr std::uint16_t bits[] = {8, 16, 32, 64};
    desc.bits_allocated = bits[data[2] & 3];
    desc.bits_stored = desc.bits_allocated;
    desc.samples_per_pixel = std::uint16_t(1 + ((data[2] >> 2) & 3));  // 1..4
    const std::uint8_t* frame = data + 3;
    const std::size_t frame_size = size - 3;

    std::vector<std::uint8_t> out(std::size_t(desc.samples()) * desc.bits_allocated / 8);
    try {
        rle::decode(frame, frame_size, desc, out.data(), out.size());
    } catch (const codec_error&) {
        return 0;
    }
    // Decoded, so the layout has at most 15 segments and can be encoded.
    const std::vector<std::uint8_t> encoded = rle::encode(out.data(), out.size(), desc);
    std::vector<std::uint8_t> again(out.size());
    rle::decode(encoded.data(), encoded.size(), desc, again.data(), again.size());
    if (again != out || encoded.size() % 2 != 0) {
        std::fprintf(stderr, "fuzz_rle: re-encoded frame does not round trip\n");
        std::abort();
    }
    return 0;
}
