// The description of one frame of pixel data that every codec works from: the image
// attributes of the dataset, checked once by the caller.
#pragma once
#include <cstdint>

namespace turbodicom::codec {

struct frame_desc {
    std::uint32_t rows = 0;
    std::uint32_t columns = 0;
    std::uint16_t samples_per_pixel = 1;
    std::uint16_t bits_allocated = 8;
    std::uint16_t bits_stored = 8;
    bool is_signed = false;             // Pixel Representation 1
    std::uint16_t planar_configuration = 0;  // 0: colour-by-pixel, 1: colour-by-plane

    std::uint64_t pixels() const { return std::uint64_t(rows) * columns; }
    std::uint64_t samples() const { return pixels() * samples_per_pixel; }
};

}  // namespace turbodicom::codec
