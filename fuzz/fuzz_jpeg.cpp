// libFuzzer target for the JPEG decoder (codec/jpeg/decoder.hpp).
//
// Every input must either decode or raise codec_error; anything else (a crash, a sanitizer
// report, another exception, a hang or a large allocation) is a bug. The output buffer is
// sized from read_info, as the caller does, within a bound that keeps runs fast.
//
// Build:  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Icpp fuzz/fuzz_jpeg.cpp
//         cpp/codec/jpeg/decode*.cpp cpp/codec/jpeg/huffman_decode.cpp cpp/codec/jpeg/idct.cpp
//         cpp/codec/common/codec_error.cpp -o fuzz_jpeg
// Run:    ./fuzz_jpeg -max_total_time=60 -rss_limit_mb=2048 -timeout=2 <corpus dir of .jpg files>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/jpeg/decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace jpeg = turbodicom::codec::jpeg;
    try {
        const jpeg::stream_info info = jpeg::read_info(data, size);
        const std::uint64_t samples = std::uint64_t(info.width) * info.height * info.components.size();
        if (samples == 0 || samples > (std::uint64_t(1) << 22)) return 0;
        // The last byte of the input picks the sample size, so that both paths are reached.
        const unsigned sample_bytes = (info.precision > 8 || (size != 0 && (data[size - 1] & 1))) ? 2 : 1;
        std::vector<std::uint8_t> out(static_cast<std::size_t>(samples) * sample_bytes);
        jpeg::decode(data, size, out.data(), out.size(), sample_bytes);
    } catch (const turbodicom::codec::codec_error&) {
    }
    return 0;
}
