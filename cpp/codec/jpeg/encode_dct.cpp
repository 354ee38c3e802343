#include "codec/jpeg/encode_dct.hpp"

#include <algorithm>
#include <cmath>

#include "codec/jpeg/encode_segments.hpp"

namespace turbodicom::codec::jpeg::encoding {

const std::array<std::uint8_t, 64> luminance_quantization = {
    16, 11, 10, 16, 24,  40,  51,  61,   //
    12, 12, 14, 19, 26,  58,  60,  55,   //
    14, 13, 16, 24, 40,  57,  69,  56,   //
    14, 17, 22, 29, 51,  87,  80,  62,   //
    18, 22, 37, 56, 68,  109, 103, 77,   //
    24, 35, 55, 64, 81,  104, 113, 92,   //
    49, 64, 78, 87, 103, 121, 120, 101,  //
    72, 92, 95, 98, 112, 100, 103, 99,
};

const std::array<std::uint8_t, 64> chrominance_quantization = {
    17, 18, 24, 47, 99, 99, 99, 99,  //
    18, 21, 26, 66, 99, 99, 99, 99,  //
    24, 26, 56, 99, 99, 99, 99, 99,  //
    47, 66, 99, 99, 99, 99, 99, 99,  //
    99, 99, 99, 99, 99, 99, 99, 99,  //
    99, 99, 99, 99, 99, 99, 99, 99,  //
    99, 99, 99, 99, 99, 99, 99, 99,  //
    99, 99, 99, 99, 99, 99, 99, 99,
};

std::array<std::uint16_t, 64> scale_quantization(const std::array<std::uint8_t, 64>& base, int quality) {
    const long percent = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    std::array<std::uint16_t, 64> table{};
    for (int i = 0; i < 64; ++i)
        table[i] = static_cast<std::uint16_t>(std::clamp((base[i] * percent + 50) / 100, 1L, 255L));
    return table;
}

forward_dct::forward_dct(const std::array<std::uint16_t, 64>& quantization) {
    const double pi = 3.14159265358979323846;
    for (int x = 0; x < 8; ++x) {
        for (int u = 0; u < 8; ++u) {
            const double cu = u == 0 ? std::sqrt(0.5) : 1.0;
            basis_[x * 8 + u] = static_cast<float>(cu / 2 * std::cos((2 * x + 1) * u * pi / 16));
        }
    }
    for (int i = 0; i < 64; ++i) inverse_step_[i] = 1.0f / quantization[i];
}

void forward_dct::transform(const float* block, std::int16_t* zigzag) const {
    // Rows: rows[y][u] = sum over x of block[y][x] * basis(x, u); written as sums of whole
    // rows so that the compiler can vectorise them.
    float rows[64];
    for (int y = 0; y < 8; ++y) {
        float acc[8] = {};
        for (int x = 0; x < 8; ++x) {
            const float sample = block[y * 8 + x];
            for (int u = 0; u < 8; ++u) acc[u] += sample * basis_[x * 8 + u];
        }
        for (int u = 0; u < 8; ++u) rows[y * 8 + u] = acc[u];
    }
    // Columns: coefficients[v][u] = sum over y of rows[y][u] * basis(y, v).
    float coefficients[64];
    for (int v = 0; v < 8; ++v) {
        float acc[8] = {};
        for (int y = 0; y < 8; ++y) {
            const float weight = basis_[y * 8 + v];
            for (int u = 0; u < 8; ++u) acc[u] += rows[y * 8 + u] * weight;
        }
        for (int u = 0; u < 8; ++u) coefficients[v * 8 + u] = acc[u] * inverse_step_[v * 8 + u];
    }
    for (int k = 0; k < 64; ++k) {
        const float value = coefficients[zigzag_to_natural[k]];
        const int limit = k == 0 ? 2047 : 1023;
        const int rounded = static_cast<int>(value + (value < 0 ? -0.5f : 0.5f));
        zigzag[k] = static_cast<std::int16_t>(std::clamp(rounded, -limit, limit));
    }
}

}  // namespace turbodicom::codec::jpeg::encoding
