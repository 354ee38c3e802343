// JPEG lossless encoder (T.81 Annex H, process 14): prediction, differences modulo 2^16,
// Huffman tables built from the image's own difference statistics, one per component.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "codec/jpeg/encode_bit_writer.hpp"
#include "codec/jpeg/encode_huffman.hpp"
#include "codec/jpeg/encode_input.hpp"
#include "codec/jpeg/encode_segments.hpp"
#include "codec/jpeg/encoder.hpp"
#include "codec/jpeg/markers.hpp"

namespace turbodicom::codec::jpeg {

namespace {

using encoding::bit_length;
using encoding::symbol_counts;

// The difference category SSSS (Table H.2) of a difference modulo 2^16. Read as a signed
// 16-bit value, 0x8000 gives a magnitude of 32768, which is category 16.
inline unsigned category(std::uint16_t difference) {
    const std::int32_t value = static_cast<std::int16_t>(difference);
    return bit_length(static_cast<std::uint32_t>(std::abs(value)));
}

template <class Sample>
void load_row(const std::uint8_t* samples, std::size_t first, std::size_t step, unsigned columns,
              std::uint32_t mask, std::int32_t* row) {
    for (unsigned x = 0; x < columns; ++x) {
        Sample value;
        std::memcpy(&value, samples + (first + x * step) * sizeof(Sample), sizeof(Sample));
        row[x] = static_cast<std::int32_t>(value & mask);
    }
}

inline void put_difference(std::int32_t difference, std::uint16_t* out, std::uint64_t* counts) {
    const auto d = static_cast<std::uint16_t>(difference);
    *out = d;
    ++counts[category(d)];
}

// Table H.1 with a = Ra (left), b = Rb (above), c = Rc (above left).
template <int predictor>
inline std::int32_t predict(std::int32_t a, std::int32_t b, std::int32_t c) {
    if constexpr (predictor == 1) return a;
    if constexpr (predictor == 2) return b;
    if constexpr (predictor == 3) return c;
    if constexpr (predictor == 4) return a + b - c;
    if constexpr (predictor == 5) return a + ((b - c) >> 1);
    if constexpr (predictor == 6) return b + ((a - c) >> 1);
    if constexpr (predictor == 7) return (a + b) >> 1;
    return 0;
}

// A row after the first: its first sample is predicted from the one above (H.1.2.1).
template <int predictor>
void difference_row(const std::int32_t* row, const std::int32_t* above, unsigned columns, std::uint16_t* out,
                    std::size_t out_step, std::uint64_t* counts) {
    put_difference(row[0] - above[0], out, counts);
    for (unsigned x = 1; x < columns; ++x)
        put_difference(row[x] - predict<predictor>(row[x - 1], above[x], above[x - 1]), out + x * out_step, counts);
}

using difference_row_fn = void (*)(const std::int32_t*, const std::int32_t*, unsigned, std::uint16_t*, std::size_t,
                                   std::uint64_t*);
constexpr difference_row_fn difference_rows[] = {
    difference_row<1>, difference_row<2>, difference_row<3>, difference_row<4>,
    difference_row<5>, difference_row<6>, difference_row<7>,
};

// First pass: the differences of all samples, in scan order (colour-by-pixel, as the
// interleaved MCUs of 1x1 components are), and the category counts of each component.
template <class Sample>
void compute_differences(const std::uint8_t* samples, const frame_desc& desc, encoding::sample_layout layout,
                         int predictor, std::uint16_t* differences, symbol_counts* counts) {
    const unsigned columns = desc.columns;
    const unsigned components = desc.samples_per_pixel;
    const unsigned precision = desc.bits_stored;
    const std::uint32_t mask = (std::uint32_t(1) << precision) - 1;
    const difference_row_fn row_differences = difference_rows[predictor - 1];
    std::vector<std::int32_t> above(columns), row(columns);
    for (unsigned c = 0; c < components; ++c) {
        std::uint64_t* component_counts = counts[c].data();
        for (std::uint32_t y = 0; y < desc.rows; ++y) {
            const std::size_t first_pixel = std::size_t(y) * columns;
            load_row<Sample>(samples, c * layout.plane_step + first_pixel * layout.pixel_step, layout.pixel_step,
                             columns, mask, row.data());
            std::uint16_t* out = differences + first_pixel * components + c;
            if (y == 0) {
                // The first row: 2^(P-1) predicts its first sample, Ra the others (H.1.2.1).
                put_difference(row[0] - std::int32_t(1 << (precision - 1)), out, component_counts);
                for (unsigned x = 1; x < columns; ++x)
                    put_difference(row[x] - row[x - 1], out + x * components, component_counts);
            } else {
                row_differences(row.data(), above.data(), columns, out, components, component_counts);
            }
            row.swap(above);
        }
    }
}

// Per category: the Huffman code followed by room for the additional bits, which are
// the low SSSS bits of the difference, minus one when it is negative (F.1.2.1, H.1.2.2);
// category 16 has none.
struct category_code {
    std::array<std::uint32_t, 17> code{};
    std::array<std::uint8_t, 17> length{};
    std::array<std::uint8_t, 17> extra{};
};

category_code make_category_code(const encoding::huffman_table& table) {
    const encoding::huffman_codes codes = encoding::make_codes(table);
    category_code result;
    for (unsigned ssss = 0; ssss <= 16; ++ssss) {
        result.code[ssss] = codes.code[ssss];
        result.length[ssss] = codes.length[ssss];
        result.extra[ssss] = static_cast<std::uint8_t>(ssss < 16 ? ssss : 0);
    }
    return result;
}

template <unsigned components>
void write_differences(const std::uint16_t* differences, std::size_t pixels, const category_code* codes,
                       encoding::bit_writer& writer) {
    for (std::size_t i = 0; i < pixels; ++i) {
        for (unsigned c = 0; c < components; ++c) {
            const std::uint16_t d = differences[i * components + c];
            const std::int32_t value = static_cast<std::int16_t>(d);
            const unsigned ssss = bit_length(static_cast<std::uint32_t>(std::abs(value)));
            const category_code& code = codes[c];
            const unsigned extra = code.extra[ssss];
            const std::uint32_t extra_bits =
                static_cast<std::uint32_t>(value + (value >> 31)) & ((std::uint32_t(1) << extra) - 1);
            writer.put(code.code[ssss] << extra | extra_bits, code.length[ssss] + extra);
        }
    }
}

}  // namespace

std::vector<std::uint8_t> encode_lossless(const std::uint8_t* samples, std::size_t size, const frame_desc& desc,
                                          int predictor) {
    const encoding::sample_layout layout = encoding::check_frame(samples, size, desc);
    if (desc.bits_stored < 2 || desc.bits_stored > 16)
        encoding::bad_argument("lossless precision (bits stored) must be 2..16, not " +
                               std::to_string(desc.bits_stored));
    if (predictor < 1 || predictor > 7)
        encoding::bad_argument("lossless predictor must be 1..7, not " + std::to_string(predictor));

    const unsigned components = desc.samples_per_pixel;
    const std::size_t pixels = static_cast<std::size_t>(desc.pixels());
    std::vector<std::uint16_t> differences(pixels * components);
    std::array<symbol_counts, 3> counts{};
    if (desc.bits_allocated == 8)
        compute_differences<std::uint8_t>(samples, desc, layout, predictor, differences.data(), counts.data());
    else
        compute_differences<std::uint16_t>(samples, desc, layout, predictor, differences.data(), counts.data());

    std::vector<std::uint8_t> out;
    encoding::put_marker(out, marker::SOI);
    std::vector<encoding::frame_component> frame(components);
    std::vector<encoding::scan_component> scan(components);
    for (unsigned c = 0; c < components; ++c) {
        frame[c].id = static_cast<std::uint8_t>(c + 1);
        scan[c].id = static_cast<std::uint8_t>(c + 1);
        scan[c].td = static_cast<std::uint8_t>(c);
    }
    encoding::write_sof(out, marker::SOF3, desc.bits_stored, desc.rows, desc.columns, frame);

    std::array<category_code, 3> codes;
    std::uint64_t total_bits = 0;
    for (unsigned c = 0; c < components; ++c) {
        const encoding::huffman_table table = encoding::optimal_table(counts[c]);
        encoding::write_dht(out, 0, c, table);
        codes[c] = make_category_code(table);
        for (unsigned ssss = 0; ssss <= 16; ++ssss)
            total_bits += counts[c][ssss] * (codes[c].length[ssss] + codes[c].extra[ssss]);
    }
    encoding::write_sos(out, scan, static_cast<unsigned>(predictor), 0, 0, 0);

    // Room for the exact bit count plus a little stuffing; the writer grows if it needs more.
    const std::size_t expected = static_cast<std::size_t>(total_bits / 8 + total_bits / 2048 + 16);
    encoding::bit_writer writer(out, expected);
    if (components == 1)
        write_differences<1>(differences.data(), pixels, codes.data(), writer);
    else
        write_differences<3>(differences.data(), pixels, codes.data(), writer);
    writer.finish();
    encoding::put_marker(out, marker::EOI);
    return out;
}

}  // namespace turbodicom::codec::jpeg
