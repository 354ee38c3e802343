// JPEG baseline encoder (T.81 process 1): colour conversion and chroma subsampling, FDCT,
// quantisation, and Huffman coding of one interleaved scan.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/jpeg/encode_bit_writer.hpp"
#include "codec/jpeg/encode_dct.hpp"
#include "codec/jpeg/encode_huffman.hpp"
#include "codec/jpeg/encode_input.hpp"
#include "codec/jpeg/encode_segments.hpp"
#include "codec/jpeg/encoder.hpp"
#include "codec/jpeg/markers.hpp"

namespace turbodicom::codec::jpeg {

namespace {

using encoding::bit_length;
using encoding::huffman_codes;
using encoding::symbol_counts;

// JFIF RGB -> YCbCr in 16-bit fixed point, rounded; each row of weights sums to 65536
// (or to 0 for Cb and Cr) so that greys map exactly to Y = grey, Cb = Cr = 128.
inline void rgb_to_ycbcr(int r, int g, int b, std::uint8_t* y, std::uint8_t* cb, std::uint8_t* cr) {
    constexpr int half = 1 << 15;
    constexpr int offset = (128 << 16) + half;
    *y = static_cast<std::uint8_t>((19595 * r + 38470 * g + 7471 * b + half) >> 16);
    *cb = static_cast<std::uint8_t>(std::min((-11058 * r - 21710 * g + 32768 * b + offset) >> 16, 255));
    *cr = static_cast<std::uint8_t>(std::min((32768 * r - 27439 * g - 5329 * b + offset) >> 16, 255));
}

struct component_plan {
    unsigned h = 1, v = 1;  // sampling factors
    unsigned table = 0;     // quantisation and Huffman tables: 0 luminance, 1 chrominance
};

// One MCU row at a time: the samples at full resolution, padded to whole MCUs by
// repeating the last column and row, then each component at its own resolution, level
// shifted, ready for the FDCT.
class strip_builder {
public:
    strip_builder(const std::uint8_t* samples, const frame_desc& desc, encoding::sample_layout layout,
                  bool convert, unsigned h_max, unsigned v_max, const std::vector<component_plan>& plan)
        : samples_(samples), desc_(desc), layout_(layout), convert_(convert), h_max_(h_max), v_max_(v_max),
          plan_(plan) {
        const unsigned mcu_width = 8 * h_max;
        padded_width_ = (desc.columns + mcu_width - 1) / mcu_width * mcu_width;
        strip_height_ = 8 * v_max;
        for (std::size_t c = 0; c < plan.size(); ++c) {
            full_[c].resize(std::size_t(padded_width_) * strip_height_);
            planes_[c].resize(std::size_t(plane_width(c)) * 8 * plan[c].v);
        }
    }

    unsigned plane_width(std::size_t c) const { return padded_width_ / h_max_ * plan_[c].h; }
    const float* plane(std::size_t c) const { return planes_[c].data(); }

    void build(std::uint32_t first_row) {
        const unsigned components = desc_.samples_per_pixel;
        const unsigned columns = desc_.columns;
        for (unsigned r = 0; r < strip_height_; ++r) {
            const std::uint32_t y = std::min<std::uint32_t>(first_row + r, desc_.rows - 1);
            const std::uint8_t* in = samples_ + std::size_t(y) * columns * layout_.pixel_step;
            const std::size_t out_row = std::size_t(r) * padded_width_;
            if (components == 1) {
                std::uint8_t* out = full_[0].data() + out_row;
                std::copy(in, in + columns, out);
            } else {
                std::uint8_t* out0 = full_[0].data() + out_row;
                std::uint8_t* out1 = full_[1].data() + out_row;
                std::uint8_t* out2 = full_[2].data() + out_row;
                const std::size_t step = layout_.pixel_step, plane = layout_.plane_step;
                for (unsigned x = 0; x < columns; ++x) {
                    const std::uint8_t* p = in + x * step;
                    if (convert_) {
                        rgb_to_ycbcr(p[0], p[plane], p[2 * plane], out0 + x, out1 + x, out2 + x);
                    } else {
                        out0[x] = p[0];
                        out1[x] = p[plane];
                        out2[x] = p[2 * plane];
                    }
                }
            }
            for (unsigned c = 0; c < components; ++c) {
                std::uint8_t* out = full_[c].data() + out_row;
                std::fill(out + columns, out + padded_width_, out[columns - 1]);
            }
        }
        for (unsigned c = 0; c < components; ++c) downsample(c);
    }

private:
    // Each output sample is the mean of the (h_max/h) x (v_max/v) samples it covers.
    void downsample(unsigned c) {
        const unsigned fx = h_max_ / plan_[c].h, fy = v_max_ / plan_[c].v;
        const unsigned width = plane_width(c), height = 8 * plan_[c].v;
        const std::uint8_t* in = full_[c].data();
        float* out = planes_[c].data();
        if (fx == 1 && fy == 1) {
            for (std::size_t i = 0; i < std::size_t(width) * height; ++i) out[i] = float(in[i]) - 128.0f;
            return;
        }
        const float scale = 1.0f / float(fx * fy);
        for (unsigned y = 0; y < height; ++y) {
            for (unsigned x = 0; x < width; ++x) {
                int sum = 0;
                for (unsigned dy = 0; dy < fy; ++dy) {
                    const std::uint8_t* row = in + std::size_t(y * fy + dy) * padded_width_ + x * fx;
                    for (unsigned dx = 0; dx < fx; ++dx) sum += row[dx];
                }
                out[std::size_t(y) * width + x] = float(sum) * scale - 128.0f;
            }
        }
    }

    const std::uint8_t* samples_;
    const frame_desc& desc_;
    encoding::sample_layout layout_;
    bool convert_;
    unsigned h_max_, v_max_;
    const std::vector<component_plan>& plan_;
    unsigned padded_width_ = 0, strip_height_ = 0;
    std::array<std::vector<std::uint8_t>, 3> full_;
    std::array<std::vector<float>, 3> planes_;
};

// Huffman coding of one quantised block (F.1.2.1, F.1.2.2): the DC difference, then runs of
// zero AC coefficients with the next non-zero one, ZRL for 16 zeros, EOB when zeros end it.
inline void put_value(std::uint32_t code, unsigned length, int value, unsigned ssss, encoding::bit_writer& writer) {
    const std::uint32_t extra = static_cast<std::uint32_t>(value + (value >> 31)) & ((1u << ssss) - 1);
    writer.put(code << ssss | extra, length + ssss);
}

inline std::uint64_t nonzero_ac_mask(const std::int16_t* zigzag) {
    std::uint64_t mask = 0;
    for (int k = 1; k < 64; ++k) mask |= std::uint64_t(zigzag[k] != 0) << k;
    return mask;
}

inline unsigned lowest_bit(std::uint64_t mask) {
#if defined(__GNUC__) || defined(__clang__)
    return static_cast<unsigned>(__builtin_ctzll(mask));
#else
    unsigned n = 0;
    while (!(mask & 1)) {
        mask >>= 1;
        ++n;
    }
    return n;
#endif
}

void encode_block(const std::int16_t* zigzag, int& dc_prediction, const huffman_codes& dc, const huffman_codes& ac,
                  encoding::bit_writer& writer) {
    const int difference = zigzag[0] - dc_prediction;
    dc_prediction = zigzag[0];
    const unsigned dc_ssss = bit_length(static_cast<std::uint32_t>(std::abs(difference)));
    put_value(dc.code[dc_ssss], dc.length[dc_ssss], difference, dc_ssss, writer);

    std::uint64_t mask = nonzero_ac_mask(zigzag);
    unsigned last = 0;
    while (mask) {
        const unsigned k = lowest_bit(mask);
        mask &= mask - 1;
        unsigned run = k - last - 1;
        for (; run >= 16; run -= 16) writer.put(ac.code[0xF0], ac.length[0xF0]);
        const int value = zigzag[k];
        const unsigned ssss = bit_length(static_cast<std::uint32_t>(std::abs(value)));
        const unsigned symbol = run << 4 | ssss;
        put_value(ac.code[symbol], ac.length[symbol], value, ssss, writer);
        last = k;
    }
    if (last != 63) writer.put(ac.code[0x00], ac.length[0x00]);
}

// The symbols encode_block would write, counted for table optimisation.
void count_block(const std::int16_t* zigzag, int& dc_prediction, symbol_counts& dc, symbol_counts& ac) {
    const int difference = zigzag[0] - dc_prediction;
    dc_prediction = zigzag[0];
    ++dc[bit_length(static_cast<std::uint32_t>(std::abs(difference)))];
    std::uint64_t mask = nonzero_ac_mask(zigzag);
    unsigned last = 0;
    while (mask) {
        const unsigned k = lowest_bit(mask);
        mask &= mask - 1;
        unsigned run = k - last - 1;
        for (; run >= 16; run -= 16) ++ac[0xF0];
        ++ac[run << 4 | bit_length(static_cast<std::uint32_t>(std::abs(int(zigzag[k]))))];
        last = k;
    }
    if (last != 63) ++ac[0x00];
}

void check_baseline(const frame_desc& desc, const baseline_options& options) {
    if (desc.bits_allocated != 8 || desc.bits_stored != 8)
        encoding::bad_argument("baseline needs 8-bit samples (bits allocated and stored 8), not " +
                               std::to_string(desc.bits_allocated) + "/" + std::to_string(desc.bits_stored));
    if (desc.is_signed) encoding::bad_argument("baseline codes unsigned samples only");
    if (options.quality < 1 || options.quality > 100)
        encoding::bad_argument("quality must be 1..100, not " + std::to_string(options.quality));
    if (options.chroma != subsampling::s444 && options.chroma != subsampling::s422 &&
        options.chroma != subsampling::s420)
        encoding::bad_argument("unknown chroma subsampling");
}

}  // namespace

std::vector<std::uint8_t> encode_baseline(const std::uint8_t* samples, std::size_t size, const frame_desc& desc,
                                          const baseline_options& options) {
    const encoding::sample_layout layout = encoding::check_frame(samples, size, desc);
    check_baseline(desc, options);

    const unsigned components = desc.samples_per_pixel;
    // RGB kept as RGB: no colour transform, no subsampling, one table set, and the component
    // ids 'R', 'G', 'B' (with no JFIF segment) that tell decoders not to convert.
    const bool keep_rgb = components == 3 && options.keep_rgb;
    unsigned h_max = 1, v_max = 1;
    if (components == 3 && !keep_rgb && options.chroma != subsampling::s444) {
        h_max = 2;
        v_max = options.chroma == subsampling::s420 ? 2 : 1;
    }
    std::vector<component_plan> plan(components);
    plan[0].h = h_max;
    plan[0].v = v_max;
    for (unsigned c = 1; c < components; ++c) plan[c].table = keep_rgb ? 0 : 1;
    const unsigned tables = components == 1 || keep_rgb ? 1 : 2;

    const std::array<std::uint16_t, 64> quantization[2] = {
        encoding::scale_quantization(encoding::luminance_quantization, options.quality),
        encoding::scale_quantization(encoding::chrominance_quantization, options.quality),
    };
    const encoding::forward_dct dcts[2] = {encoding::forward_dct(quantization[0]),
                                           encoding::forward_dct(quantization[1])};

    const unsigned mcus_x = (desc.columns + 8 * h_max - 1) / (8 * h_max);
    const unsigned mcus_y = (desc.rows + 8 * v_max - 1) / (8 * v_max);
    unsigned blocks_per_mcu = 0;
    for (const auto& p : plan) blocks_per_mcu += p.h * p.v;

    // Quantised blocks of one MCU row, in the order the scan codes them (A.2.3).
    std::vector<std::int16_t> row_blocks(std::size_t(mcus_x) * blocks_per_mcu * 64);
    strip_builder strips(samples, desc, layout, components == 3 && options.rgb_to_ycbcr && !keep_rgb, h_max, v_max,
                         plan);
    auto transform_mcu_row = [&](unsigned my) {
        strips.build(my * 8 * v_max);
        std::int16_t* out = row_blocks.data();
        float block[64];
        for (unsigned mx = 0; mx < mcus_x; ++mx) {
            for (unsigned c = 0; c < components; ++c) {
                const unsigned width = strips.plane_width(c);
                const float* plane = strips.plane(c);
                for (unsigned by = 0; by < plan[c].v; ++by) {
                    for (unsigned bx = 0; bx < plan[c].h; ++bx) {
                        const float* origin = plane + std::size_t(by * 8) * width + (mx * plan[c].h + bx) * 8;
                        for (int y = 0; y < 8; ++y) std::copy(origin + y * width, origin + y * width + 8, block + y * 8);
                        dcts[plan[c].table].transform(block, out);
                        out += 64;
                    }
                }
            }
        }
    };

    // Tables: the Annex K.3 ones, or with optimize_huffman ones built from this image's
    // symbols (which needs every block before the first is coded).
    encoding::huffman_table dc_tables[2] = {encoding::standard_dc_luminance(), encoding::standard_dc_chrominance()};
    encoding::huffman_table ac_tables[2] = {encoding::standard_ac_luminance(), encoding::standard_ac_chrominance()};
    std::vector<std::int16_t> all_blocks;
    if (options.optimize_huffman) {
        symbol_counts dc_counts[2] = {}, ac_counts[2] = {};
        int predictions[3] = {0, 0, 0};
        all_blocks.reserve(std::size_t(mcus_y) * row_blocks.size());
        for (unsigned my = 0; my < mcus_y; ++my) {
            transform_mcu_row(my);
            const std::int16_t* block = row_blocks.data();
            for (unsigned mx = 0; mx < mcus_x; ++mx) {
                for (unsigned c = 0; c < components; ++c) {
                    for (unsigned b = 0; b < plan[c].h * plan[c].v; ++b, block += 64)
                        count_block(block, predictions[c], dc_counts[plan[c].table], ac_counts[plan[c].table]);
                }
            }
            all_blocks.insert(all_blocks.end(), row_blocks.begin(), row_blocks.end());
        }
        for (unsigned t = 0; t < tables; ++t) {
            dc_tables[t] = encoding::optimal_table(dc_counts[t]);
            ac_tables[t] = encoding::optimal_table(ac_counts[t]);
        }
    }

    std::vector<std::uint8_t> out;
    encoding::put_marker(out, marker::SOI);
    if (components == 3 && !keep_rgb) encoding::write_jfif(out);
    for (unsigned t = 0; t < tables; ++t) encoding::write_dqt(out, t, quantization[t]);
    std::vector<encoding::frame_component> frame(components);
    std::vector<encoding::scan_component> scan(components);
    for (unsigned c = 0; c < components; ++c) {
        static constexpr std::uint8_t rgb_ids[3] = {'R', 'G', 'B'};
        const auto id = keep_rgb ? rgb_ids[c] : static_cast<std::uint8_t>(c + 1);
        const auto table = static_cast<std::uint8_t>(plan[c].table);
        frame[c] = {id, static_cast<std::uint8_t>(plan[c].h), static_cast<std::uint8_t>(plan[c].v), table};
        scan[c] = {id, table, table};
    }
    encoding::write_sof(out, marker::SOF0, 8, desc.rows, desc.columns, frame);
    for (unsigned t = 0; t < tables; ++t) {
        encoding::write_dht(out, 0, t, dc_tables[t]);
        encoding::write_dht(out, 1, t, ac_tables[t]);
    }
    encoding::write_sos(out, scan, 0, 63, 0, 0);

    const huffman_codes dc_codes[2] = {encoding::make_codes(dc_tables[0]), encoding::make_codes(dc_tables[1])};
    const huffman_codes ac_codes[2] = {encoding::make_codes(ac_tables[0]), encoding::make_codes(ac_tables[1])};
    encoding::bit_writer writer(out, static_cast<std::size_t>(desc.samples() / 8 + 1024));
    int predictions[3] = {0, 0, 0};
    for (unsigned my = 0; my < mcus_y; ++my) {
        const std::int16_t* block;
        if (options.optimize_huffman) {
            block = all_blocks.data() + std::size_t(my) * row_blocks.size();
        } else {
            transform_mcu_row(my);
            block = row_blocks.data();
        }
        for (unsigned mx = 0; mx < mcus_x; ++mx) {
            for (unsigned c = 0; c < components; ++c) {
                const unsigned t = plan[c].table;
                for (unsigned b = 0; b < plan[c].h * plan[c].v; ++b, block += 64)
                    encode_block(block, predictions[c], dc_codes[t], ac_codes[t], writer);
            }
        }
    }
    writer.finish();
    encoding::put_marker(out, marker::EOI);
    return out;
}

}  // namespace turbodicom::codec::jpeg
