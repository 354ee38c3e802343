#include "codec/jpeg/idct.hpp"

#include <cmath>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define TURBODICOM_JPEG_IDCT_SSE2 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IDCT_INLINE inline __attribute__((always_inline))
#else
#define IDCT_INLINE inline
#endif

namespace turbodicom::codec::jpeg::dec {
namespace {

// ck = cos(k*pi/16) / 2: each 1-D pass carries half of the 2-D 1/4 scale (T.81 A.3.3).
constexpr float c1 = 0.49039264020161522f;
constexpr float c2 = 0.46193976625564337f;
constexpr float c3 = 0.41573480615127262f;
constexpr float c4 = 0.35355339059327376f;
constexpr float c5 = 0.27778511650980114f;
constexpr float c6 = 0.19134171618254492f;
constexpr float c7 = 0.09754516100806417f;

#if defined(TURBODICOM_JPEG_IDCT_SSE2)
struct vec {
    __m128 v;
};
IDCT_INLINE vec operator+(vec a, vec b) { return {_mm_add_ps(a.v, b.v)}; }
IDCT_INLINE vec operator-(vec a, vec b) { return {_mm_sub_ps(a.v, b.v)}; }
IDCT_INLINE vec operator*(vec a, float s) { return {_mm_mul_ps(a.v, _mm_set1_ps(s))}; }
#else
struct vec {
    float v[4];
};
IDCT_INLINE vec operator+(vec a, vec b) { return {{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3]}}; }
IDCT_INLINE vec operator-(vec a, vec b) { return {{a.v[0] - b.v[0], a.v[1] - b.v[1], a.v[2] - b.v[2], a.v[3] - b.v[3]}}; }
IDCT_INLINE vec operator*(vec a, float s) { return {{a.v[0] * s, a.v[1] * s, a.v[2] * s, a.v[3] * s}}; }
#endif

// One 1-D inverse DCT on x[0..7] (each a vector of four independent lanes), written out
// from the definition: even part from x0, x2, x4, x6 and odd part from x1, x3, x5, x7.
IDCT_INLINE void idct_1d(const vec* x, vec* y) {
    const vec a0 = (x[0] + x[4]) * c4;
    const vec a1 = (x[0] - x[4]) * c4;
    const vec b0 = x[2] * c2 + x[6] * c6;
    const vec b1 = x[2] * c6 - x[6] * c2;
    const vec e0 = a0 + b0, e3 = a0 - b0, e1 = a1 + b1, e2 = a1 - b1;
    const vec o0 = x[1] * c1 + x[3] * c3 + x[5] * c5 + x[7] * c7;
    const vec o1 = x[1] * c3 - x[3] * c7 - x[5] * c1 - x[7] * c5;
    const vec o2 = x[1] * c5 - x[3] * c1 + x[5] * c7 + x[7] * c3;
    const vec o3 = x[1] * c7 - x[3] * c5 + x[5] * c3 - x[7] * c1;
    y[0] = e0 + o0;
    y[7] = e0 - o0;
    y[1] = e1 + o1;
    y[6] = e1 - o1;
    y[2] = e2 + o2;
    y[5] = e2 - o2;
    y[3] = e3 + o3;
    y[4] = e3 - o3;
}

#if defined(TURBODICOM_JPEG_IDCT_SSE2)
IDCT_INLINE vec load(const std::int32_t* p) { return {_mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))}; }

// Transposes an 8x8 matrix held as rows of two vectors: m[row][half].
IDCT_INLINE void transpose(vec m[8][2]) {
    for (int bi = 0; bi < 2; ++bi) {
        for (int bj = bi; bj < 2; ++bj) {
            __m128 r0 = m[bi * 4 + 0][bj].v, r1 = m[bi * 4 + 1][bj].v, r2 = m[bi * 4 + 2][bj].v,
                   r3 = m[bi * 4 + 3][bj].v;
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            if (bi == bj) {
                m[bi * 4 + 0][bj].v = r0;
                m[bi * 4 + 1][bj].v = r1;
                m[bi * 4 + 2][bj].v = r2;
                m[bi * 4 + 3][bj].v = r3;
            } else {
                __m128 s0 = m[bj * 4 + 0][bi].v, s1 = m[bj * 4 + 1][bi].v, s2 = m[bj * 4 + 2][bi].v,
                       s3 = m[bj * 4 + 3][bi].v;
                _MM_TRANSPOSE4_PS(s0, s1, s2, s3);
                m[bj * 4 + 0][bi].v = r0;
                m[bj * 4 + 1][bi].v = r1;
                m[bj * 4 + 2][bi].v = r2;
                m[bj * 4 + 3][bi].v = r3;
                m[bi * 4 + 0][bj].v = s0;
                m[bi * 4 + 1][bj].v = s1;
                m[bi * 4 + 2][bj].v = s2;
                m[bi * 4 + 3][bj].v = s3;
            }
        }
    }
}

// Both passes; rows[r][h] ends holding output row r, columns 4h..4h+3, not yet shifted.
IDCT_INLINE void idct_2d(const std::int32_t* coefficients, vec rows[8][2]) {
    vec in[8], out[8];
    for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 8; ++k) in[k] = load(coefficients + k * 8 + h * 4);
        idct_1d(in, out);
        for (int k = 0; k < 8; ++k) rows[k][h] = out[k];
    }
    transpose(rows);
    for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 8; ++k) in[k] = rows[k][h];
        idct_1d(in, out);
        for (int k = 0; k < 8; ++k) rows[k][h] = out[k];
    }
    transpose(rows);
}

// Rounds half up after the level shift, clamps into 0..max, converts to int32.
IDCT_INLINE __m128i to_samples(vec v, float level, float max) {
    __m128 x = _mm_add_ps(v.v, _mm_set1_ps(level + 0.5f));
    x = _mm_max_ps(x, _mm_setzero_ps());
    x = _mm_min_ps(x, _mm_set1_ps(max + 0.5f));
    return _mm_cvttps_epi32(x);
}
#endif

}  // namespace

#if defined(TURBODICOM_JPEG_IDCT_SSE2)

void idct_8x8(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride) {
    vec rows[8][2];
    idct_2d(coefficients, rows);
    for (int r = 0; r < 8; ++r) {
        const __m128i lo = to_samples(rows[r][0], 128.0f, 255.0f);
        const __m128i hi = to_samples(rows[r][1], 128.0f, 255.0f);
        const __m128i words = _mm_packs_epi32(lo, hi);
        const __m128i bytes = _mm_packus_epi16(words, words);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + r * stride), bytes);
    }
}

void idct_8x8(const std::int32_t* coefficients, std::uint16_t* out, std::ptrdiff_t stride) {
    vec rows[8][2];
    idct_2d(coefficients, rows);
    for (int r = 0; r < 8; ++r) {
        const __m128i lo = to_samples(rows[r][0], 2048.0f, 4095.0f);
        const __m128i hi = to_samples(rows[r][1], 2048.0f, 4095.0f);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + r * stride), _mm_packs_epi32(lo, hi));
    }
}

#else

namespace {
template <class Sample>
void idct_scalar(const std::int32_t* coefficients, Sample* out, std::ptrdiff_t stride, float level, float max) {
    float tmp[8][8];
    vec in[8], res[8];
    for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 8; ++k)
            for (int j = 0; j < 4; ++j) in[k].v[j] = static_cast<float>(coefficients[k * 8 + h * 4 + j]);
        idct_1d(in, res);
        for (int k = 0; k < 8; ++k)
            for (int j = 0; j < 4; ++j) tmp[k][h * 4 + j] = res[k].v[j];
    }
    for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 8; ++k)
            for (int j = 0; j < 4; ++j) in[k].v[j] = tmp[h * 4 + j][k];
        idct_1d(in, res);
        for (int k = 0; k < 8; ++k) {
            for (int j = 0; j < 4; ++j) {
                float x = res[k].v[j] + level + 0.5f;
                x = x < 0.0f ? 0.0f : (x > max + 0.5f ? max + 0.5f : x);
                out[(h * 4 + j) * stride + k] = static_cast<Sample>(static_cast<int>(x));
            }
        }
    }
}
}  // namespace

void idct_8x8(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride) {
    idct_scalar(coefficients, out, stride, 128.0f, 255.0f);
}
void idct_8x8(const std::int32_t* coefficients, std::uint16_t* out, std::ptrdiff_t stride) {
    idct_scalar(coefficients, out, stride, 2048.0f, 4095.0f);
}

#endif

}  // namespace turbodicom::codec::jpeg::dec
