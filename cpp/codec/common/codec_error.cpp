#include "codec/common/codec_error.hpp"

namespace turbodicom::codec {

const char* codec_errc_name(codec_errc code) noexcept {
    switch (code) {
        case codec_errc::truncated: return "truncated";
        case codec_errc::bad_marker: return "bad marker";
        case codec_errc::bad_header: return "bad header";
        case codec_errc::bad_table: return "bad table";
        case codec_errc::bad_data: return "bad data";
        case codec_errc::unsupported: return "unsupported";
        case codec_errc::too_large: return "too large";
        case codec_errc::bad_argument: return "bad argument";
    }
    return "unknown";
}

codec_error::codec_error(codec_errc code, std::uint64_t offset, const std::string& detail)
    : std::runtime_error(std::string(codec_errc_name(code)) + " at byte " + std::to_string(offset) + ": " + detail),
      code_(code), offset_(offset), detail_(detail) {}

void fail(codec_errc code, std::uint64_t offset, const std::string& detail) {
    throw codec_error(code, offset, detail);
}

}  // namespace turbodicom::codec
