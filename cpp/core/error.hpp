// Errors of the C++ core: one code per cause, with the byte offset where it was found.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace turbodicom::core {

enum class errc {
    not_dicom,          // no 'DICM' prefix and not forced
    truncated,          // the input ends inside a structure that must be complete
    bad_length,         // a length that cannot be right
    depth_exceeded,     // sequences nested deeper than the limit
    too_many_elements,  // more elements than the limit
    bad_item,           // an item or delimiter where none can be
    inflate_failed,     // deflated dataset could not be inflated
    vr_mismatch,        // explicit/implicit VR differs from the transfer syntax (strict mode)
    unknown_vr,         // a value that must be decoded has a VR that is not a VR
    io,                 // the file could not be opened or read
};

const char* errc_name(errc code) noexcept;

class error : public std::runtime_error {
public:
    error(errc code, std::uint64_t offset, const std::string& detail);
    errc code() const noexcept { return code_; }
    std::uint64_t offset() const noexcept { return offset_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    errc code_;
    std::uint64_t offset_;
    std::string detail_;
};

// Out of line so that hot paths stay small.
[[noreturn]] void raise(errc code, std::uint64_t offset, const std::string& detail);

}  // namespace turbodicom::core
