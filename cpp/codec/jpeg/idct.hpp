// Inverse DCT of one 8x8 block (ITU-T T.81 A.3.3), separable: columns, then rows of the
// transposed result, with SSE2 where available. 8-bit samples use a 16-bit fixed-point
// transform (eight columns per vector); 12-bit samples, whose coefficients need more range,
// use single precision (four columns per vector). Output samples are rounded, level shifted
// (A.3.1) and clamped.
#pragma once
#include <cstddef>
#include <cstdint>

namespace turbodicom::codec::jpeg::dec {

// coefficients: 64 dequantised values in natural (row-major) order.
void idct_8x8(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride);
// The same when only the top-left 4x4 coefficients (zig-zag indices 0..9) can be non-zero.
void idct_8x8_4x4(const std::int32_t* coefficients, std::uint8_t* out, std::ptrdiff_t stride);
// 12-bit samples: level shift 2048, clamped to 0..4095.
void idct_8x8(const std::int32_t* coefficients, std::uint16_t* out, std::ptrdiff_t stride);

// The block value when only the DC coefficient is non-zero: F(0,0)/8 rounded, shifted, clamped.
inline int dc_only_sample(std::int32_t dequantised_dc, int precision) {
    const int level = 1 << (precision - 1);
    const int max = (1 << precision) - 1;
    // Rounded division by 8 (the 2-D DCT scale for a flat block), half up.
    const std::int64_t v = ((static_cast<std::int64_t>(dequantised_dc) + 4) >> 3) + level;
    return v < 0 ? 0 : (v > max ? max : static_cast<int>(v));
}

}  // namespace turbodicom::codec::jpeg::dec
