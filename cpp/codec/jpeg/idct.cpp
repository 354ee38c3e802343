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

void idct_8x8(const std::int32_t* coefficients, std::uint16_t* out, std::ptrdiff_t stride) {
    idct_scalar(coefficients, out, stride, 2048.0f, 4095.0f);
}

#endif

// 8-bit samples: a fixed-point transform in 16-bit lanes, the factorisation of Loeffler,
// Ligtenberg and Moschytz with 13-bit constants and two guard bits between the passes, the
// arithmetic libjpeg-family decoders use by default, so that results agree with theirs. The
// products are summed in 32 bits (pairs of 16-bit inputs times pairs of constants), so each
// odd output is two multiply-add operations over (x1, x7) and (x3, x5).
namespace {

constexpr int const_bits = 13;
constexpr int pass1_bits = 2;

// round(c * 2^13) of the rotation constants.
constexpr int f0_298 = 2446, f0_390 = 3196, f0_541 = 4433, f0_765 = 6270, f0_899 = 7373, f1_175 = 9633,
              f1_501 = 12299, f1_847 = 15137, f1_961 = 16069, f2_053 = 16819, f2_562 = 20995, f3_072 = 25172;

// Coefficient pairs of the even part: x2 * a + x6 * b.
constexpr int ev_t3[2] = {f0_541 + f0_765, f0_541};
constexpr int ev_t2[2] = {f0_541, f0_541 - f1_847};
// Odd part: output o_n = (x1 * a + x7 * b) + (x3 * c + x5 * d), n = 0..3, pairing with rows
// n and 7 - n. z5 = (x1 + x3 + x5 + x7) * 1.176 is shared out into every term.
constexpr int od[4][4] = {
    {f1_501 - f0_899 + f1_175 - f0_390, f1_175 - f0_899, f1_175, f1_175 - f0_390},
    {f1_175, f1_175 - f1_961, f3_072 - f2_562 + f1_175 - f1_961, f1_175 - f2_562},
    {f1_175 - f0_390, f1_175, f1_175 - f2_562, f2_053 - f2_562 + f1_175 - f0_390},
    {f1_175 - f0_899, f0_298 - f0_899 + f1_175 - f1_961, f1_175 - f1_961, f1_175},
};

#if defined(TURBODICOM_JPEG_IDCT_SSE2)

IDCT_INLINE __m128i pair(int a, int b) {
    return _mm_set1_epi32(static_cast<int>((static_cast<unsigned>(b) << 16) | (static_cast<unsigned>(a) & 0xFFFFu)));
}

// One 1-D pass over eight vectors of eight 16-bit lanes. Adds `bias` before the arithmetic
// right shift by `shift`, and packs the results back to 16 bits with saturation.
template <int shift>
IDCT_INLINE void idct8_int(__m128i* x, __m128i bias) {
    const __m128i k04p = pair(1 << const_bits, 1 << const_bits), k04m = pair(1 << const_bits, -(1 << const_bits));
    const __m128i k3 = pair(ev_t3[0], ev_t3[1]), k2 = pair(ev_t2[0], ev_t2[1]);
    __m128i out[8][2];
    for (int half = 0; half < 2; ++half) {
        const auto unpack = [half](__m128i a, __m128i b) { return half == 0 ? _mm_unpacklo_epi16(a, b) : _mm_unpackhi_epi16(a, b); };
        const __m128i p04 = unpack(x[0], x[4]), p26 = unpack(x[2], x[6]);
        const __m128i p17 = unpack(x[1], x[7]), p35 = unpack(x[3], x[5]);
        const __m128i t0 = _mm_add_epi32(_mm_madd_epi16(p04, k04p), bias);
        const __m128i t1 = _mm_add_epi32(_mm_madd_epi16(p04, k04m), bias);
        const __m128i t3 = _mm_madd_epi16(p26, k3), t2 = _mm_madd_epi16(p26, k2);
        const __m128i e[4] = {_mm_add_epi32(t0, t3), _mm_add_epi32(t1, t2), _mm_sub_epi32(t1, t2), _mm_sub_epi32(t0, t3)};
        for (int n = 0; n < 4; ++n) {
            const __m128i o = _mm_add_epi32(_mm_madd_epi16(p17, pair(od[n][0], od[n][1])),
                                            _mm_madd_epi16(p35, pair(od[n][2], od[n][3])));
            out[n][half] = _mm_srai_epi32(_mm_add_epi32(e[n], o), shift);
            out[7 - n][half] = _mm_srai_epi32(_mm_sub_epi32(e[n], o), shift);
        }
    }
    for (int n = 0; n < 8; ++n) x[n] = _mm_packs_epi32(out[n][0], out[n][1]);
}

// The same pass when x[4..7] are zero: the even part then needs only (x0, x2) and the odd part
// only (x1, x3), one multiply-add per output each. `low_only`: lanes 4..7 are zero too and stay so.
template <int shift, bool low_only>
IDCT_INLINE void idct8_int_sparse(__m128i* x, __m128i bias) {
    const __m128i k0 = pair(1 << const_bits, ev_t3[0]), k3 = pair(1 << const_bits, -ev_t3[0]);
    const __m128i k1 = pair(1 << const_bits, ev_t2[0]), k2 = pair(1 << const_bits, -ev_t2[0]);
    __m128i out[8][2];
    for (int half = 0; half < (low_only ? 1 : 2); ++half) {
        const __m128i p02 = half == 0 ? _mm_unpacklo_epi16(x[0], x[2]) : _mm_unpackhi_epi16(x[0], x[2]);
        const __m128i p13 = half == 0 ? _mm_unpacklo_epi16(x[1], x[3]) : _mm_unpackhi_epi16(x[1], x[3]);
        const __m128i e[4] = {_mm_add_epi32(_mm_madd_epi16(p02, k0), bias), _mm_add_epi32(_mm_madd_epi16(p02, k1), bias),
                              _mm_add_epi32(_mm_madd_epi16(p02, k2), bias), _mm_add_epi32(_mm_madd_epi16(p02, k3), bias)};
        for (int n = 0; n < 4; ++n) {
            const __m128i o = _mm_madd_epi16(p13, pair(od[n][0], od[n][2]));
            out[n][half] = _mm_srai_epi32(_mm_add_epi32(e[n], o), shift);
            out[7 - n][half] = _mm_srai_epi32(_mm_sub_epi32(e[n], o), shift);
        }
    }
    for (int n = 0; n < 8; ++n) x[n] = _mm_packs_epi32(out[n][0], low_only ? _mm_setzero_si128() : out[n][1]);
}

IDCT_INLINE void transpose8(__m128i* r) {
    const __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    const __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    const __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    const __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    r[0] = _mm_unpacklo_epi64(b0, b4);
    r[1] = _mm_unpackhi_epi64(b0, b4);
    r[2] = _mm_unpacklo_epi64(b1, b5);
    r[3] = _mm_unpackhi_epi64(b1, b5);
    r[4] = _mm_unpacklo_epi64(b2, b6);
    r[5] = _mm_unpackhi_epi64(b2, b6);
    r[6] = _mm_unpacklo_epi64(b3, b7);
    r[7] = _mm_unpackhi_epi64(b3, b7);
}

#else

IDCT_INLINE std::int32_t clamp16(std::int32_t v) { return v < -32768 ? -32768 : (v > 32767 ? 32767 : v); }

// The same pass on one line of eight values; inputs within 16 bits keep every sum in int32.
template <int shift>
IDCT_INLINE void idct8_int_line(std::int32_t* x, std::ptrdiff_t step, std::int32_t bias) {
    const std::int32_t x0 = x[0], x1 = x[step], x2 = x[2 * step], x3 = x[3 * step], x4 = x[4 * step],
                       x5 = x[5 * step], x6 = x[6 * step], x7 = x[7 * step];
    const std::int32_t t0 = (x0 + x4) * (1 << const_bits) + bias, t1 = (x0 - x4) * (1 << const_bits) + bias;
    const std::int32_t t3 = x2 * ev_t3[0] + x6 * ev_t3[1], t2 = x2 * ev_t2[0] + x6 * ev_t2[1];
    const std::int32_t e[4] = {t0 + t3, t1 + t2, t1 - t2, t0 - t3};
    for (int n = 0; n < 4; ++n) {
        const std::int32_t o = x1 * od[n][0] + x7 * od[n][1] + x3 * od[n][2] + x5 * od[n][3];
        x[n * step] = clamp16((e[n] + o) >> shift);
        x[(7 - n) * step] = clamp16((e[n] - o) >> shift);
    }
}

#endif

}  // namespace

constexpr int shift1 = const_bits - pass1_bits;
constexpr int shift2 = const_bits + pass1_bits + 3;

#if defined(TURBODICOM_JPEG_IDCT_SSE2)
namespace {
IDCT_INLINE void store_rows(__m128i* x, std::uint8_t* out, std::ptrdiff_t stride) {
    for (int r = 0; r < 8; r += 2) {
        const __m128i bytes = _mm_packus_epi16(x[r], x[r + 1]);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + r * stride), bytes);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + (r + 1) * stride), _mm_unpackhi_epi64(bytes, bytes));
    }
}
}  // namespace

void idct_8x8_4x4(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride) {
    __m128i x[8];
    for (int r = 0; r < 4; ++r)
        x[r] = _mm_packs_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(coefficients + r * 8)), _mm_setzero_si128());
    for (int r = 4; r < 8; ++r) x[r] = _mm_setzero_si128();
    // Rows 4..7 are zero, and so are columns 4..7, before and after the column pass.
    idct8_int_sparse<shift1, true>(x, _mm_set1_epi32(1 << (shift1 - 1)));
    transpose8(x);
    idct8_int_sparse<shift2, false>(x, _mm_set1_epi32((1 << (shift2 - 1)) + (128 << shift2)));
    transpose8(x);
    store_rows(x, out, stride);
}
#else
void idct_8x8_4x4(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride) {
    idct_8x8(coefficients, out, stride);
}
#endif

void idct_8x8(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride) {
#if defined(TURBODICOM_JPEG_IDCT_SSE2)
    __m128i x[8];
    for (int r = 0; r < 8; ++r) {
        const __m128i* p = reinterpret_cast<const __m128i*>(coefficients + r * 8);
        x[r] = _mm_packs_epi32(_mm_loadu_si128(p), _mm_loadu_si128(p + 1));
    }
    // Columns (lanes are columns, vectors rows), then rows after a transpose. The second pass
    // folds the level shift (A.3.1) into its rounding bias; packing to bytes clamps.
    idct8_int<shift1>(x, _mm_set1_epi32(1 << (shift1 - 1)));
    transpose8(x);
    idct8_int<shift2>(x, _mm_set1_epi32((1 << (shift2 - 1)) + (128 << shift2)));
    transpose8(x);
    store_rows(x, out, stride);
#else
    std::int32_t x[64];
    for (int i = 0; i < 64; ++i) x[i] = clamp16(coefficients[i]);
    for (int c = 0; c < 8; ++c) idct8_int_line<shift1>(x + c, 8, 1 << (shift1 - 1));
    for (int r = 0; r < 8; ++r) {
        idct8_int_line<shift2>(x + r * 8, 1, (1 << (shift2 - 1)) + (128 << shift2));
        for (int c = 0; c < 8; ++c) {
            const std::int32_t v = x[r * 8 + c];
            out[r * stride + c] = static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
    }
#endif
}

}  // namespace turbodicom::codec::jpeg::dec
