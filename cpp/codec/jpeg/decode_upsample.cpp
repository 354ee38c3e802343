#include "codec/jpeg/decode_upsample.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define TURBODICOM_JPEG_UPSAMPLE_SSE2 1
#endif

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

namespace {

// The 2:1 filters below on rows whose ends are replicated one sample further out (in[-1] =
// in[0], in[n] = in[n - 1]): with that padding the edge formulas of h2v1_row and h2v2_row are
// the general ones, e.g. (3c + c + 1) >> 2 = c, so one loop covers the whole row.

// Horizontal 2:1 of `n` samples of `in` (padded) into 2n samples of `out`.
void h2v1_padded(const std::uint8_t* in, std::ptrdiff_t n, std::uint8_t* out) {
    std::ptrdiff_t i = 0;
#if defined(TURBODICOM_JPEG_UPSAMPLE_SSE2)
    const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi16(1), two = _mm_set1_epi16(2);
    for (; i + 16 <= n; i += 16) {
        const __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i - 1));
        const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 1));
        __m128i res[2];
        for (int half = 0; half < 2; ++half) {
            const __m128i c = half ? _mm_unpackhi_epi8(cur, zero) : _mm_unpacklo_epi8(cur, zero);
            const __m128i p = half ? _mm_unpackhi_epi8(prev, zero) : _mm_unpacklo_epi8(prev, zero);
            const __m128i x = half ? _mm_unpackhi_epi8(next, zero) : _mm_unpacklo_epi8(next, zero);
            const __m128i c3 = _mm_add_epi16(_mm_add_epi16(c, c), c);
            const __m128i even = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, p), one), 2);
            const __m128i odd = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, x), two), 2);
            // even in the low byte of each word, odd in the high byte: the output order.
            res[half] = _mm_or_si128(even, _mm_slli_epi16(odd, 8));
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), res[0]);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i + 16), res[1]);
    }
#endif
    for (; i < n; ++i) {
        const int c3 = 3 * in[i];
        out[2 * i] = static_cast<std::uint8_t>((c3 + in[i - 1] + 1) >> 2);
        out[2 * i + 1] = static_cast<std::uint8_t>((c3 + in[i + 1] + 2) >> 2);
    }
}

// Horizontal half of h2v2: `sums` (padded) hold 3 * near + far; out = (3s + s' + 8 or 7) / 16.
void h2v2_padded(const std::int16_t* sums, std::ptrdiff_t n, std::uint8_t* out) {
    std::ptrdiff_t i = 0;
#if defined(TURBODICOM_JPEG_UPSAMPLE_SSE2)
    const __m128i eight = _mm_set1_epi16(8), seven = _mm_set1_epi16(7);
    for (; i + 8 <= n; i += 8) {
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sums + i));
        const __m128i p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sums + i - 1));
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sums + i + 1));
        const __m128i c3 = _mm_add_epi16(_mm_add_epi16(c, c), c);
        const __m128i even = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, p), eight), 4);
        const __m128i odd = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, x), seven), 4);
        const __m128i words = _mm_or_si128(even, _mm_slli_epi16(odd, 8));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), words);
    }
#endif
    for (; i < n; ++i) {
        const int c3 = 3 * sums[i];
        out[2 * i] = static_cast<std::uint8_t>((c3 + sums[i - 1] + 8) >> 4);
        out[2 * i + 1] = static_cast<std::uint8_t>((c3 + sums[i + 1] + 7) >> 4);
    }
}

// Vertical sums 3 * near + far of `n` samples into sums[0..n), then the end padding.
void vertical_sums(const std::uint8_t* near, const std::uint8_t* far, std::uint32_t n, std::int16_t* sums) {
    std::uint32_t i = 0;
#if defined(TURBODICOM_JPEG_UPSAMPLE_SSE2)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(near + i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(far + i));
        const __m128i alo = _mm_unpacklo_epi8(a, zero), ahi = _mm_unpackhi_epi8(a, zero);
        const __m128i lo = _mm_add_epi16(_mm_add_epi16(_mm_add_epi16(alo, alo), alo), _mm_unpacklo_epi8(b, zero));
        const __m128i hi = _mm_add_epi16(_mm_add_epi16(_mm_add_epi16(ahi, ahi), ahi), _mm_unpackhi_epi8(b, zero));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(sums + i), lo);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(sums + i + 8), hi);
    }
#endif
    for (; i < n; ++i) sums[i] = static_cast<std::int16_t>(3 * near[i] + far[i]);
    sums[-1] = sums[0];
    sums[n] = sums[n - 1];
}

// Vertical 2:1: out = (3 * near + far + bias) >> 2.
void h1v2_row8(const std::uint8_t* near, const std::uint8_t* far, std::uint32_t n, int bias, std::uint8_t* out) {
    std::uint32_t i = 0;
#if defined(TURBODICOM_JPEG_UPSAMPLE_SSE2)
    const __m128i zero = _mm_setzero_si128(), b = _mm_set1_epi16(static_cast<short>(bias));
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(near + i));
        const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(far + i));
        __m128i res[2];
        for (int half = 0; half < 2; ++half) {
            const __m128i x = half ? _mm_unpackhi_epi8(a, zero) : _mm_unpacklo_epi8(a, zero);
            const __m128i y = half ? _mm_unpackhi_epi8(f, zero) : _mm_unpacklo_epi8(f, zero);
            res[half] = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(_mm_add_epi16(x, x), _mm_add_epi16(x, y)), b), 2);
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(res[0], res[1]));
    }
#endif
    for (; i < n; ++i) out[i] = static_cast<std::uint8_t>((3 * near[i] + far[i] + bias) >> 2);
}

// Three full-width rows into colour-by-pixel triples.
void interleave3(const std::uint8_t* a, const std::uint8_t* b, const std::uint8_t* c, std::uint32_t n, std::uint8_t* out) {
    std::uint32_t x = 0;
#if defined(TURBODICOM_JPEG_UPSAMPLE_SSE2)
    // Each pixel as a 32-bit word a | b << 8 | c << 16; two words per 64-bit lane are joined
    // into six bytes and stored with an 8-byte store that the next store partly overwrites.
    // The last store of a group ends 2 bytes past its pixels: keep one pixel in hand.
    const __m128i zero = _mm_setzero_si128();
    const __m128i low_word = _mm_set_epi32(0, -1, 0, -1);
    for (; x + 17 <= n; x += 16) {
        const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + x));
        const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + x));
        const __m128i vc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + x));
        const __m128i ab[2] = {_mm_unpacklo_epi8(va, vb), _mm_unpackhi_epi8(va, vb)};
        const __m128i c0[2] = {_mm_unpacklo_epi8(vc, zero), _mm_unpackhi_epi8(vc, zero)};
        std::uint8_t* o = out + 3 * x;
        for (int q = 0; q < 4; ++q) {
            const __m128i px = (q & 1) ? _mm_unpackhi_epi16(ab[q >> 1], c0[q >> 1]) : _mm_unpacklo_epi16(ab[q >> 1], c0[q >> 1]);
            const __m128i packed = _mm_or_si128(_mm_and_si128(px, low_word), _mm_slli_epi64(_mm_srli_epi64(px, 32), 24));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 12 * q), packed);
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 12 * q + 6), _mm_unpackhi_epi64(packed, packed));
        }
    }
#endif
    for (; x < n; ++x) {
        out[3 * x] = a[x];
        out[3 * x + 1] = b[x];
        out[3 * x + 2] = c[x];
    }
}

// Row y of a plane that may hold only some rows (component_output::ring_rows), clamped to
// the component's rows as in row_at.
const std::uint8_t* ring_row(const std::uint8_t* plane, const component_output& c, std::int64_t y) {
    y = std::clamp<std::int64_t>(y, 0, static_cast<std::int64_t>(c.plane_height) - 1);
    if (c.ring_rows != 0) y %= c.ring_rows;
    return plane + y * c.plane_stride;
}

bool fast_layout(const component_output& c) {
    if (c.shift != 0) return false;
    if (c.ratio_h == 1 && c.ratio_v == 1) return true;
    if (!c.smooth || c.ratio_h > 2 || c.ratio_v > 2) return false;
    return c.ratio_h == 1 || c.plane_width > 2;  // as in write_component
}

}  // namespace

bool row_composer::supports(const component_output* c, int count) {
    for (int i = 0; i < count; ++i) {
        if (!fast_layout(c[i])) return false;
        // Expanded rows may not be longer than the image row (plus the filter's slack).
        if (static_cast<std::uint64_t>(c[i].plane_width) * static_cast<std::uint32_t>(c[i].ratio_h) > std::uint64_t(c[i].width) + 2)
            return false;
    }
    return count >= 1 && count <= 4;
}

row_composer::row_composer(const component_output* c, int count) : c_(c), count_(count) {
    const std::uint32_t w = c[0].width;
    row_size_ = static_cast<std::size_t>(w) + 64;
    rows_.resize(row_size_ * static_cast<std::size_t>(count));
    edge_.resize(static_cast<std::size_t>(w) + 64);
    sums_.resize(static_cast<std::size_t>(w) + 64);
}

void row_composer::write_rows(const std::uint8_t* const* planes, std::uint8_t* out, std::uint32_t y0, std::uint32_t y1) {
    const std::uint32_t w = c_[0].width;
    const std::size_t nc = static_cast<std::size_t>(count_);
    for (std::uint32_t y = y0; y < y1; ++y) {
        const std::uint8_t* row[4] = {nullptr, nullptr, nullptr, nullptr};
        for (int i = 0; i < count_; ++i) {
            const component_output& c = c_[i];
            const std::uint8_t* plane = planes[i];
            std::uint8_t* buf = rows_.data() + row_size_ * static_cast<std::size_t>(i);
            const std::uint32_t pw = c.plane_width;
            if (c.ratio_h == 1 && c.ratio_v == 1) {
                row[i] = ring_row(plane, c, y);
                continue;
            }
            row[i] = buf;
            if (c.ratio_v == 1) {
                const std::uint8_t* in = ring_row(plane, c, y);
                std::uint8_t* e = edge_.data() + 16;
                std::memcpy(e, in, pw);
                e[-1] = e[0];
                e[pw] = e[pw - 1];
                h2v1_padded(e, pw, buf);
                continue;
            }
            const std::uint8_t* near = ring_row(plane, c, y / 2);
            const std::uint8_t* far = ring_row(plane, c, (y & 1) ? std::int64_t(y / 2) + 1 : std::int64_t(y / 2) - 1);
            if (c.ratio_h == 1) {
                h1v2_row8(near, far, w, (y & 1) ? 2 : 1, buf);
            } else {
                std::int16_t* s = sums_.data() + 8;
                vertical_sums(near, far, pw, s);
                h2v2_padded(s, pw, buf);
            }
        }
        std::uint8_t* o = out + static_cast<std::size_t>(y) * w * nc;
        if (count_ == 3) {
            interleave3(row[0], row[1], row[2], w, o);
        } else if (count_ == 1) {
            std::memcpy(o, row[0], w);
        } else {
            for (std::uint32_t x = 0; x < w; ++x)
                for (std::size_t i = 0; i < nc; ++i) o[x * nc + i] = row[i][x];
        }
    }
}

template void write_component<std::uint8_t, std::uint8_t>(const std::uint8_t*, const component_output&, std::uint8_t*);
template void write_component<std::uint8_t, std::uint16_t>(const std::uint8_t*, const component_output&, std::uint16_t*);
template void write_component<std::uint16_t, std::uint8_t>(const std::uint16_t*, const component_output&, std::uint8_t*);
template void write_component<std::uint16_t, std::uint16_t>(const std::uint16_t*, const component_output&, std::uint16_t*);

}  // namespace turbodicom::codec::jpeg::dec
