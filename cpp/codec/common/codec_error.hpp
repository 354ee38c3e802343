// Errors of the pixel codecs: one code per cause, with the byte offset in the encoded
// stream where it was found. The frame number is added by the caller that knows it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace turbodicom::codec {

enum class codec_errc {
    truncated,    // the stream ends inside a structure that must be complete
    bad_marker,   // a marker or segment that cannot be where it is
    bad_header,   // a header field out of range or inconsistent with the image
    bad_table,    // a Huffman or quantisation table that is missing or invalid
    bad_data,     // entropy-coded or run-length data that cannot be decoded
    unsupported,  // valid, but a feature this codec does not implement
    too_large,    // dimensions or sizes over the limits
    bad_argument, // the caller's description or buffer does not fit the stream
};

const char* codec_errc_name(codec_errc code) noexcept;

class codec_error : public std::runtime_error {
public:
    codec_error(codec_errc code, std::uint64_t offset, const std::string& detail);
    codec_errc code() const noexcept { return code_; }
    std::uint64_t offset() const noexcept { return offset_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    codec_errc code_;
    std::uint64_t offset_;
    std::string detail_;
};

// Out of line so that hot loops stay small.
[[noreturn]] void fail(codec_errc code, std::uint64_t offset, const std::string& detail);

// No frame may need more than this many bytes of output: bounds allocation from headers.
constexpr std::uint64_t max_frame_bytes = std::uint64_t(1) << 32;

}  // namespace turbodicom::codec
