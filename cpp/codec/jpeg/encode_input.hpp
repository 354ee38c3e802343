// The checks both JPEG encoders make on the caller's frame description and buffer, and
// where each sample of the buffer is.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/common/codec_error.hpp"
#include "codec/common/frame.hpp"

namespace turbodicom::codec::jpeg::encoding {

[[noreturn]] inline void bad_argument(const std::string& what) { fail(codec_errc::bad_argument, 0, what); }

// Sample (component c, row y, column x) is at c * plane_step + (y * columns + x) * pixel_step.
struct sample_layout {
    std::size_t pixel_step = 1;
    std::size_t plane_step = 0;
};

inline sample_layout check_frame(const std::uint8_t* samples, std::size_t size, const frame_desc& desc) {
    // T.81 B.2.2: 16-bit line and column counts; a zero row count (DNL) is not written.
    if (desc.rows < 1 || desc.rows > 65535 || desc.columns < 1 || desc.columns > 65535)
        bad_argument("rows and columns must be 1..65535, not " + std::to_string(desc.rows) + " x " +
                     std::to_string(desc.columns));
    if (desc.samples_per_pixel != 1 && desc.samples_per_pixel != 3)
        bad_argument("samples per pixel must be 1 or 3, not " + std::to_string(desc.samples_per_pixel));
    if (desc.bits_allocated != 8 && desc.bits_allocated != 16)
        bad_argument("bits allocated must be 8 or 16, not " + std::to_string(desc.bits_allocated));
    if (desc.bits_stored > desc.bits_allocated)
        bad_argument("bits stored " + std::to_string(desc.bits_stored) + " exceeds bits allocated " +
                     std::to_string(desc.bits_allocated));
    if (desc.planar_configuration > 1)
        bad_argument("planar configuration must be 0 or 1, not " + std::to_string(desc.planar_configuration));
    const std::uint64_t expected = desc.samples() * (desc.bits_allocated / 8u);
    if (size != expected)
        bad_argument("the buffer holds " + std::to_string(size) + " bytes, the frame needs " + std::to_string(expected));
    if (samples == nullptr) bad_argument("no sample buffer");

    sample_layout layout;
    if (desc.samples_per_pixel == 3 && desc.planar_configuration == 1) {
        layout.pixel_step = 1;
        layout.plane_step = static_cast<std::size_t>(desc.pixels());
    } else {
        layout.pixel_step = desc.samples_per_pixel;
        layout.plane_step = 1;
    }
    return layout;
}

}  // namespace turbodicom::codec::jpeg::encoding
