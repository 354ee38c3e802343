// Writes one decoded component plane into the colour-by-pixel output, expanding subsampled
// components to full resolution. 2:1 ratios use the triangle ("fancy") filter that
// libjpeg-family decoders apply by default, so that lossy results agree with them; other
// integral ratios, and lossless frames, replicate samples.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace turbodicom::codec::jpeg::dec {

struct component_output {
    std::uint32_t plane_width, plane_height;  // the component's own size (valid samples)
    std::ptrdiff_t plane_stride;
    int ratio_h, ratio_v;                     // Hmax / h, Vmax / v
    bool smooth;                              // use the triangle filter where it applies
    int shift;                                // left shift of every sample (lossless Pt)
    std::uint32_t width, height;              // the image
    int components, index;                    // output interleave
    std::uint32_t ring_rows = 0;              // row_composer only: the plane holds rows
                                              // y % ring_rows (0: all rows)
};

template <class In, class Out>
void write_component(const In* plane, const component_output& c, Out* out);

// 8-bit samples in and out, for the common layouts (every component at full size or expanded
// 2:1 with the triangle filter, no shift): writes output rows [y0, y1) of all components at
// once, a row at a time, so that each output row is touched once while it is in cache.
// Gives the same samples as write_component.
class row_composer {
public:
    static bool supports(const component_output* c, int count);
    row_composer(const component_output* c, int count);
    // planes[i]: component i's samples, rows plane_stride apart. Row y of the output needs
    // rows up to y / ratio_v + 1 of each component, and down to y / ratio_v - 1.
    void write_rows(const std::uint8_t* const* planes, std::uint8_t* out, std::uint32_t y0, std::uint32_t y1);

private:
    const component_output* c_;
    int count_;
    std::vector<std::uint8_t> rows_;  // one expanded row per component, plus slack
    std::vector<std::uint8_t> edge_;  // an input row with one replicated sample at each end
    std::vector<std::int16_t> sums_;  // vertical sums of the h2v2 filter, likewise padded
    std::size_t row_size_ = 0;
};

}  // namespace turbodicom::codec::jpeg::dec
