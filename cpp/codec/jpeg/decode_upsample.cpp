#include "codec/jpeg/decode_upsample.hpp"

#include <algorithm>
#include <vector>

namespace turbodicom::codec::jpeg::dec {
namespace {

template <class In>
const In* row_at(const In* plane, const component_output& c, std::int64_t y) {
    y = std::clamp<std::int64_t>(y, 0, static_cast<std::int64_t>(c.plane_height) - 1);
    return plane + y * c.plane_stride;
}

template <class Out>
Out* out_row(Out* out, const component_output& c, std::uint32_t y) {
    return out + (static_cast<std::size_t>(y) * c.width) * static_cast<std::size_t>(c.components) + static_cast<std::size_t>(c.index);
}

// Horizontal 2:1 triangle filter of one row: each output sample weighs its nearer input 3/4
// and the further one 1/4; the outermost samples copy the edge. Rounding biases alternate
// (1, 2) so that the errors do not accumulate in one direction.
template <class In, class Out>
void h2v1_row(const In* in, std::uint32_t in_width, Out* out, const component_output& c) {
    const std::size_t step = static_cast<std::size_t>(c.components);
    const std::uint32_t w = c.width;
    for (std::uint32_t i = 0; i < in_width; ++i) {
        const int cur = in[i];
        const std::uint32_t x = 2 * i;
        if (x < w) out[x * step] = static_cast<Out>(i == 0 ? cur : (3 * cur + in[i - 1] + 1) >> 2);
        if (x + 1 < w) out[(x + 1) * step] = static_cast<Out>(i + 1 == in_width ? cur : (3 * cur + in[i + 1] + 2) >> 2);
    }
}

// Both directions: column sums 3*near + far, then the horizontal filter on them (/16).
template <class In, class Out>
void h2v2_row(const In* near, const In* far, std::uint32_t in_width, int* sums, Out* out, const component_output& c) {
    for (std::uint32_t i = 0; i < in_width; ++i) sums[i] = 3 * near[i] + far[i];
    const std::size_t step = static_cast<std::size_t>(c.components);
    const std::uint32_t w = c.width;
    for (std::uint32_t i = 0; i < in_width; ++i) {
        const int cur = sums[i];
        const std::uint32_t x = 2 * i;
        if (x < w) out[x * step] = static_cast<Out>(i == 0 ? (4 * cur + 8) >> 4 : (3 * cur + sums[i - 1] + 8) >> 4);
        if (x + 1 < w)
            out[(x + 1) * step] = static_cast<Out>(i + 1 == in_width ? (4 * cur + 7) >> 4 : (3 * cur + sums[i + 1] + 7) >> 4);
    }
}

}  // namespace

template <class In, class Out>
void write_component(const In* plane, const component_output& c, Out* out) {
    const std::size_t step = static_cast<std::size_t>(c.components);
    if (c.ratio_h == 1 && c.ratio_v == 1) {
        for (std::uint32_t y = 0; y < c.height; ++y) {
            const In* in = plane + static_cast<std::ptrdiff_t>(y) * c.plane_stride;
            Out* o = out_row(out, c, y);
            if (c.shift == 0) {
                for (std::uint32_t x = 0; x < c.width; ++x) o[x * step] = static_cast<Out>(in[x]);
            } else {
                for (std::uint32_t x = 0; x < c.width; ++x) o[x * step] = static_cast<Out>(in[x] << c.shift);
            }
        }
        return;
    }
    const bool wide = c.plane_width > 2;
    if (c.smooth && c.ratio_h == 2 && c.ratio_v == 1 && wide) {
        for (std::uint32_t y = 0; y < c.height; ++y) h2v1_row(row_at(plane, c, y), c.plane_width, out_row(out, c, y), c);
        return;
    }
    if (c.smooth && c.ratio_h == 1 && c.ratio_v == 2) {
        for (std::uint32_t y = 0; y < c.height; ++y) {
            const In* near = row_at(plane, c, y / 2);
            const In* far = row_at(plane, c, (y & 1) ? std::int64_t(y / 2) + 1 : std::int64_t(y / 2) - 1);
            const int bias = (y & 1) ? 2 : 1;
            Out* o = out_row(out, c, y);
            for (std::uint32_t x = 0; x < c.width; ++x) o[x * step] = static_cast<Out>((3 * near[x] + far[x] + bias) >> 2);
        }
        return;
    }
    if (c.smooth && c.ratio_h == 2 && c.ratio_v == 2 && wide) {
        std::vector<int> sums(c.plane_width);
        for (std::uint32_t y = 0; y < c.height; ++y) {
            const In* near = row_at(plane, c, y / 2);
            const In* far = row_at(plane, c, (y & 1) ? std::int64_t(y / 2) + 1 : std::int64_t(y / 2) - 1);
            h2v2_row(near, far, c.plane_width, sums.data(), out_row(out, c, y), c);
        }
        return;
    }
    // Replication for every other integral ratio.
    for (std::uint32_t y = 0; y < c.height; ++y) {
        const In* in = row_at(plane, c, y / static_cast<std::uint32_t>(c.ratio_v));
        Out* o = out_row(out, c, y);
        for (std::uint32_t x = 0; x < c.width; ++x) {
            const std::uint32_t sx = std::min(x / static_cast<std::uint32_t>(c.ratio_h), c.plane_width - 1);
            o[x * step] = static_cast<Out>(in[sx] << c.shift);
        }
    }
}

template void write_component<std::uint8_t, std::uint8_t>(const std::uint8_t*, const component_output&, std::uint8_t*);
template void write_component<std::uint8_t, std::uint16_t>(const std::uint8_t*, const component_output&, std::uint16_t*);
template void write_component<std::uint16_t, std::uint8_t>(const std::uint16_t*, const component_output&, std::uint8_t*);
template void write_component<std::uint16_t, std::uint16_t>(const std::uint16_t*, const component_output&, std::uint16_t*);

}  // namespace turbodicom::codec::jpeg::dec
