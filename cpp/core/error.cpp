#include "core/error.hpp"

namespace turbodicom::core {

const char* errc_name(errc code) noexcept {
    switch (code) {
        case errc::not_dicom: return "not DICOM";
        case errc::truncated: return "truncated";
        case errc::bad_length: return "bad length";
        case errc::depth_exceeded: return "nesting too deep";
        case errc::too_many_elements: return "too many elements";
        case errc::bad_item: return "bad item";
        case errc::inflate_failed: return "inflate failed";
        case errc::vr_mismatch: return "VR mismatch";
        case errc::unknown_vr: return "unknown VR";
        case errc::io: return "I/O error";
    }
    return "error";
}

static std::string format_message(errc code, std::uint64_t offset, const std::string& detail) {
    return std::string(errc_name(code)) + " at byte offset " + std::to_string(offset) + ": " + detail;
}

error::error(errc code, std::uint64_t offset, const std::string& detail)
    : std::runtime_error(format_message(code, offset, detail)), code_(code), offset_(offset), detail_(detail) {}

void raise(errc code, std::uint64_t offset, const std::string& detail) { throw error(code, offset, detail); }

}  // namespace turbodicom::core
