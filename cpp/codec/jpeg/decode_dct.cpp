// Sequential DCT scans, Huffman coded (ITU-T T.81 F.2): baseline and extended, 8 and 12 bit.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "codec/jpeg/decode_stream.hpp"
#include "codec/jpeg/idct.hpp"

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DCT_SCAN_INLINE inline __attribute__((always_inline))
#else
#define DCT_SCAN_INLINE inline
#endif

namespace turbodicom::codec::jpeg::dec {
namespace {

// Zig-zag index to natural (row-major) index, T.81 Figure A.6. Indices past 63, reached only
// by corrupt runs, land on a spare slot (64) that is never transformed.
constexpr std::uint8_t natural_order[80] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33,
    40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36,
    29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64};

template <class Sample>
struct scan_component {
    const dc_huffman_table* dc;
    const ac_huffman_table* ac;
    const std::uint16_t* quant;
    plane_view<Sample> plane;
    int h, v;
    int precision;
};

// Decodes one block's coefficients (F.2.2.1, F.2.2.2), dequantised, into `coefficients`
// (natural order, all zero on entry). Returns one past the zig-zag index of the last coded
// coefficient (at least 1; 1 when only the DC coefficient was coded).
template <class Sample>
inline int decode_block_coefficients(bit_reader& reader, const scan_component<Sample>& c, std::int32_t& predictor,
                                      std::int32_t* coefficients) {
    const std::int32_t diff = decode_difference(reader, *c.dc);
    // Wrapping addition: corrupt streams may push the predictor anywhere; keep it defined.
    predictor = static_cast<std::int32_t>(static_cast<std::uint32_t>(predictor) + static_cast<std::uint32_t>(diff));
    std::int64_t dc = static_cast<std::int64_t>(predictor) * c.quant[0];
    dc = std::clamp<std::int64_t>(dc, -(1 << 24), 1 << 24);
    coefficients[0] = static_cast<std::int32_t>(dc);

    const ac_huffman_table& ac = *c.ac;
    const std::uint16_t* quant = c.quant;
    int k = 1;
    while (k < 64) {
        reader.ensure(32);
        const ac_huffman_table::entry& e = ac.lookup(reader.peek(ac_huffman_table::lookup_bits));
        int symbol;
        std::int32_t value;
        if (e.total_len != 0) {
            reader.skip(e.total_len);
            symbol = e.symbol;
            if (symbol == 0) break;
            value = e.value;
        } else {
            if (e.code_len != 0) {
                reader.skip(e.code_len);
                symbol = e.symbol;
            } else {
                symbol = ac.decode_long(reader);
            }
            const int size = symbol & 15;
            if (size == 0) {
                if (symbol != 0xF0) break;  // EOB (or a run without size, ended likewise)
                k += 16;                    // ZRL: sixteen zeros
                continue;
            }
            value = extend(reader.take(size), size);
        }
        k += symbol >> 4;
        // |value| < 2^15 and quant < 2^16: the product fits in int32.
        coefficients[natural_order[k]] = value * quant[k];
        ++k;
    }
    return k;
}

// Zeroes a block's coefficients (16-byte aligned) for the next one. Explicit vector stores:
// a library clear of this size costs more than the stores themselves.
inline void clear_block(std::int32_t* coefficients) {
#if defined(__SSE2__) || defined(_M_X64)
    const __m128i zero = _mm_setzero_si128();
    for (int i = 0; i < 64; i += 4) _mm_store_si128(reinterpret_cast<__m128i*>(coefficients + i), zero);
#else
    std::memset(coefficients, 0, 64 * sizeof(std::int32_t));
#endif
    coefficients[64] = 0;
}

template <class Sample>
DCT_SCAN_INLINE void decode_block(bit_reader& reader, const scan_component<Sample>& c, std::int32_t& predictor,
                         std::int32_t* coefficients, std::uint32_t block_x, std::uint32_t block_y) {
    const int end = decode_block_coefficients(reader, c, predictor, coefficients);
    const bool has_ac = end > 1;
    const plane_view<Sample>& p = c.plane;
    const std::uint32_t x0 = block_x * 8, y0 = block_y * 8;
    if (x0 >= p.width || y0 >= p.height) {
        // Outside the writable area (possible only for padding blocks): decoded, not stored.
        clear_block(coefficients);
        return;
    }
    Sample* dst = p.data + static_cast<std::ptrdiff_t>(y0) * p.stride + x0;
    const bool whole = x0 + 8 <= p.width && y0 + 8 <= p.height;
    if (!has_ac) {
        const Sample value = static_cast<Sample>(dc_only_sample(coefficients[0], c.precision));
        coefficients[0] = 0;
        const std::uint32_t w = whole ? 8 : std::min<std::uint32_t>(8, p.width - x0);
        const std::uint32_t h = whole ? 8 : std::min<std::uint32_t>(8, p.height - y0);
        for (std::uint32_t r = 0; r < h; ++r) std::fill_n(dst + static_cast<std::ptrdiff_t>(r) * p.stride, w, value);
        return;
    }
    // Zig-zag indices below 10 all lie in the top-left 4x4 (Figure A.6).
    const auto transform = [&](Sample* to, std::ptrdiff_t stride) {
        if constexpr (std::is_same_v<Sample, std::uint8_t>) {
            if (end <= 10) return idct_8x8_4x4(coefficients, to, stride);
        }
        idct_8x8(coefficients, to, stride);
    };
    if (whole) {
        transform(dst, p.stride);
    } else {
        Sample block[64];
        transform(block, 8);
        const std::uint32_t w = std::min<std::uint32_t>(8, p.width - x0);
        const std::uint32_t h = std::min<std::uint32_t>(8, p.height - y0);
        for (std::uint32_t r = 0; r < h; ++r) std::memcpy(dst + static_cast<std::ptrdiff_t>(r) * p.stride, block + r * 8, w * sizeof(Sample));
    }
    clear_block(coefficients);
}

}  // namespace

template <class Sample>
void decode_dct_scan(const std::uint8_t* data, std::size_t size, const frame_header& frame, const scan_header& scan,
                     const tables& t, const plane_view<Sample>* planes, bit_reader& reader, const mcu_rows* rows) {
    scan_component<Sample> comps[4];
    for (int i = 0; i < scan.count; ++i) {
        const int ci = scan.component[i];
        const frame_component& fc = frame.components[static_cast<std::size_t>(ci)];
        const dc_huffman_table& dc = t.dc[scan.dc_table[i]];
        const ac_huffman_table& ac = t.ac[scan.ac_table[i]];
        if (!dc.defined || !ac.defined) fail(codec_errc::bad_table, scan.data_offset, "scan uses an undefined Huffman table");
        if (!t.quant_defined[fc.tq]) fail(codec_errc::bad_table, scan.data_offset, "component uses an undefined quantisation table");
        comps[i] = {&dc, &ac, t.quant[fc.tq], planes[ci], fc.h, fc.v, frame.precision};
    }

    alignas(16) std::int32_t coefficients[80] = {};
    std::int32_t predictors[4] = {0, 0, 0, 0};
    const std::uint32_t interval = t.restart_interval;
    std::uint32_t until_restart = interval;

    auto restart_if_due = [&]() {
        if (interval == 0) return;
        if (until_restart == 0) {
            process_restart(data, size, reader);
            std::fill_n(predictors, 4, 0);
            until_restart = interval;
        }
        --until_restart;
    };

    if (scan.count == 1) {
        // Non-interleaved (A.2.2): one block per MCU, over the component's own block grid.
        const frame_component& fc = frame.components[static_cast<std::size_t>(scan.component[0])];
        const std::uint32_t blocks_x = (fc.width + 7) / 8, blocks_y = (fc.height + 7) / 8;
        for (std::uint32_t by = 0; by < blocks_y; ++by) {
            for (std::uint32_t bx = 0; bx < blocks_x; ++bx) {
                restart_if_due();
                decode_block(reader, comps[0], predictors[0], coefficients, bx, by);
            }
        }
        return;
    }
    // Interleaved (A.2.3): each MCU holds h x v blocks of every component, left to right, top down.
    const std::uint32_t ring = rows != nullptr ? rows->ring : 0;
    for (std::uint32_t my = 0; my < frame.mcus_y; ++my) {
        // Each component's view of this MCU row: 8 * v sample rows from its slot.
        const std::uint32_t slot = ring != 0 ? my % ring : my;
        for (int i = 0; i < scan.count; ++i) {
            const plane_view<Sample>& whole = planes[scan.component[i]];
            const std::uint32_t rows_per_mcu = 8 * static_cast<std::uint32_t>(comps[i].v);
            const std::uint32_t y0 = my * rows_per_mcu;
            plane_view<Sample>& p = comps[i].plane;
            p.data = whole.data + static_cast<std::ptrdiff_t>(slot) * rows_per_mcu * whole.stride;
            p.height = y0 < whole.height ? std::min(rows_per_mcu, whole.height - y0) : 0;
        }
        for (std::uint32_t mx = 0; mx < frame.mcus_x; ++mx) {
            restart_if_due();
            for (int i = 0; i < scan.count; ++i) {
                const scan_component<Sample>& c = comps[i];
                for (int y = 0; y < c.v; ++y)
                    for (int x = 0; x < c.h; ++x)
                        decode_block(reader, c, predictors[i], coefficients, mx * static_cast<std::uint32_t>(c.h) + static_cast<std::uint32_t>(x),
                                     static_cast<std::uint32_t>(y));
            }
        }
        if (rows != nullptr && rows->done != nullptr) rows->done(rows->context, my + 1);
    }
}

template void decode_dct_scan<std::uint8_t>(const std::uint8_t*, std::size_t, const frame_header&, const scan_header&,
                                            const tables&, const plane_view<std::uint8_t>*, bit_reader&, const mcu_rows*);
template void decode_dct_scan<std::uint16_t>(const std::uint8_t*, std::size_t, const frame_header&, const scan_header&,
                                             const tables&, const plane_view<std::uint16_t>*, bit_reader&, const mcu_rows*);

}  // namespace turbodicom::codec::jpeg::dec
