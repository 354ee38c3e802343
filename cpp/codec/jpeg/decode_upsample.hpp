// Writes one decoded component plane into the colour-by-pixel output, expanding subsampled
// components to full resolution. 2:1 ratios use the triangle ("fancy") filter that
// libjpeg-family decoders apply by default, so that lossy results agree with them; other
// integral ratios, and lossless frames, replicate samples.
#pragma once
#include <cstddef>
#include <cstdint>

namespace turbodicom::codec::jpeg::dec {

struct component_output {
    std::uint32_t plane_width, plane_height;  // the component's own size (valid samples)
    std::ptrdiff_t plane_stride;
    int ratio_h, ratio_v;                     // Hmax / h, Vmax / v
    bool smooth;                              // use the triangle filter where it applies
    int shift;                                // left shift of every sample (lossless Pt)
    std::uint32_t width, height;              // the image
    int components, index;                    // output interleave
};

template <class In, class Out>
void write_component(const In* plane, const component_output& c, Out* out);

}  // namespace turbodicom::codec::jpeg::dec
