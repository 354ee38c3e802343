// The forward DCT and quantisation of the baseline encoder (T.81 A.3.3, A.3.4) and the
// quantisation tables of T.81 Annex K.1 scaled by a quality factor.
#pragma once
#include <array>
#include <cstdint>

namespace turbodicom::codec::jpeg::encoding {

// Tables K.1 (luminance) and K.2 (chrominance), natural (row-major) order.
extern const std::array<std::uint8_t, 64> luminance_quantization;
extern const std::array<std::uint8_t, 64> chrominance_quantization;

// The IJG quality scaling: quality q (1..100) scales the table by 5000/q percent below 50
// and by 200 - 2q percent from 50 on, rounded and clamped to 1..255 (baseline: 8-bit).
std::array<std::uint16_t, 64> scale_quantization(const std::array<std::uint8_t, 64>& base, int quality);

// Separable floating-point FDCT of an 8x8 block of level-shifted samples, followed by
// quantisation with rounding to nearest; the result is in zig-zag order.
class forward_dct {
public:
    explicit forward_dct(const std::array<std::uint16_t, 64>& quantization);
    // `block`: 64 samples minus 128, row-major. Quantised coefficients are clamped to the
    // baseline ranges (DC -2047..2047, AC -1023..1023).
    void transform(const float* block, std::int16_t* zigzag) const;

private:
    std::array<float, 64> basis_;   // basis_[x * 8 + u] = C(u)/2 * cos((2x + 1) u pi / 16)
    std::array<float, 64> inverse_step_;  // 1 / Q, natural order
};

}  // namespace turbodicom::codec::jpeg::encoding
