// Lossless scans, Huffman coded (ITU-T T.81 Annex H). Differences of a whole MCU row are
// decoded first, then each sample row is reconstructed with its predictor in a tight loop.
#include <vector>

#include "codec/jpeg/decode_stream.hpp"

namespace turbodicom::codec::jpeg::dec {
namespace {

// Reconstructs one row (H.1.2.1, Table H.1). Arithmetic is modulo 2^16 (H.2.2).
template <int Predictor>
void reconstruct_row(const std::int32_t* diff, const std::uint16_t* above, std::uint16_t* row, std::uint32_t width) {
    int ra = (above[0] + diff[0]) & 0xFFFF;  // first column: predicted from above (Rb)
    row[0] = static_cast<std::uint16_t>(ra);
    for (std::uint32_t x = 1; x < width; ++x) {
        const int rb = above[x];
        const int rc = above[x - 1];
        int px;
        if constexpr (Predictor == 1) px = ra;
        else if constexpr (Predictor == 2) px = rb;
        else if constexpr (Predictor == 3) px = rc;
        else if constexpr (Predictor == 4) px = ra + rb - rc;
        else if constexpr (Predictor == 5) px = ra + ((rb - rc) >> 1);
        else if constexpr (Predictor == 6) px = rb + ((ra - rc) >> 1);
        else px = (ra + rb) >> 1;
        ra = (px + diff[x]) & 0xFFFF;
        row[x] = static_cast<std::uint16_t>(ra);
    }
}

// The first line of the scan or of a restart interval: the first sample is predicted by
// 2^(P-Pt-1), the others by the sample to the left.
void reconstruct_first_row(const std::int32_t* diff, int initial, std::uint16_t* row, std::uint32_t width) {
    int ra = (initial + diff[0]) & 0xFFFF;
    row[0] = static_cast<std::uint16_t>(ra);
    for (std::uint32_t x = 1; x < width; ++x) {
        ra = (ra + diff[x]) & 0xFFFF;
        row[x] = static_cast<std::uint16_t>(ra);
    }
}

using row_function = void (*)(const std::int32_t*, const std::uint16_t*, std::uint16_t*, std::uint32_t);

row_function row_function_for(int predictor) {
    switch (predictor) {
        case 1: return reconstruct_row<1>;
        case 2: return reconstruct_row<2>;
        case 3: return reconstruct_row<3>;
        case 4: return reconstruct_row<4>;
        case 5: return reconstruct_row<5>;
        case 6: return reconstruct_row<6>;
        default: return reconstruct_row<7>;
    }
}

}  // namespace

void decode_lossless_scan(const std::uint8_t* data, std::size_t size, const frame_header& frame,
                          const scan_header& scan, const tables& t, const plane_view<std::uint16_t>* planes,
                          bit_reader& reader) {
    const int predictor = scan.ss;
    const int pt = scan.al;
    if (predictor < 1 || predictor > 7) fail(codec_errc::bad_header, scan.data_offset, "lossless predictor not in 1..7");
    if (pt >= frame.precision) fail(codec_errc::bad_header, scan.data_offset, "point transform not below the precision");
    const int initial = 1 << (frame.precision - pt - 1);
    const row_function reconstruct = row_function_for(predictor);

    const bool interleaved = scan.count > 1;
    struct component_rows {
        const dc_huffman_table* table;
        plane_view<std::uint16_t> plane;
        int h, v;
        std::uint32_t row_width;  // samples of one sample row in this scan
        std::vector<std::int32_t> diff;
    };
    component_rows comps[4];
    std::uint32_t mcus_per_row, mcu_rows;
    if (interleaved) {
        mcus_per_row = frame.mcus_x;
        mcu_rows = frame.mcus_y;
    } else {
        const frame_component& fc = frame.components[static_cast<std::size_t>(scan.component[0])];
        mcus_per_row = fc.width;
        mcu_rows = fc.height;
    }
    for (int i = 0; i < scan.count; ++i) {
        const frame_component& fc = frame.components[static_cast<std::size_t>(scan.component[i])];
        component_rows& c = comps[i];
        c.table = &t.dc[scan.dc_table[i]];
        if (!c.table->defined) fail(codec_errc::bad_table, scan.data_offset, "scan uses an undefined Huffman table");
        c.plane = planes[scan.component[i]];
        c.h = interleaved ? fc.h : 1;
        c.v = interleaved ? fc.v : 1;
        c.row_width = mcus_per_row * static_cast<std::uint32_t>(c.h);
        c.diff.assign(static_cast<std::size_t>(c.row_width) * static_cast<std::size_t>(c.v), 0);
    }

    const std::uint32_t interval = t.restart_interval;
    // Prediction restarts with each interval; intervals that end inside a row would need the
    // first-line rules part way along a row, which no encoder in use produces.
    if (interval != 0 && interval % mcus_per_row != 0)
        fail(codec_errc::unsupported, scan.data_offset, "lossless restart interval not a whole number of MCU rows");
    const std::uint32_t rows_per_interval = interval / mcus_per_row;

    for (std::uint32_t mrow = 0; mrow < mcu_rows; ++mrow) {
        bool first_line = mrow == 0;
        if (rows_per_interval != 0 && mrow != 0 && mrow % rows_per_interval == 0) {
            process_restart(data, size, reader);
            first_line = true;
        }
        // Differences of the MCU row.
        if (scan.count == 1) {
            std::int32_t* diff = comps[0].diff.data();
            const dc_huffman_table& table = *comps[0].table;
            for (std::uint32_t x = 0; x < mcus_per_row; ++x) diff[x] = decode_difference(reader, table);
        } else if (frame.hmax == 1 && frame.vmax == 1) {
            for (std::uint32_t x = 0; x < mcus_per_row; ++x)
                for (int i = 0; i < scan.count; ++i) comps[i].diff[x] = decode_difference(reader, *comps[i].table);
        } else {
            for (std::uint32_t mx = 0; mx < mcus_per_row; ++mx) {
                for (int i = 0; i < scan.count; ++i) {
                    component_rows& c = comps[i];
                    for (int y = 0; y < c.v; ++y)
                        for (int x = 0; x < c.h; ++x)
                            c.diff[static_cast<std::size_t>(y) * c.row_width + mx * static_cast<std::uint32_t>(c.h) + static_cast<std::uint32_t>(x)] =
                                decode_difference(reader, *c.table);
                }
            }
        }
        // Reconstruction, row by row, in the planes.
        for (int i = 0; i < scan.count; ++i) {
            component_rows& c = comps[i];
            for (int y = 0; y < c.v; ++y) {
                const std::uint32_t row_index = mrow * static_cast<std::uint32_t>(c.v) + static_cast<std::uint32_t>(y);
                if (row_index >= c.plane.height) break;
                std::uint16_t* row = c.plane.data + static_cast<std::ptrdiff_t>(row_index) * c.plane.stride;
                const std::int32_t* diff = c.diff.data() + static_cast<std::size_t>(y) * c.row_width;
                const std::uint32_t width = std::min(c.row_width, c.plane.width);
                if ((first_line && y == 0) || row_index == 0)
                    reconstruct_first_row(diff, initial, row, width);
                else
                    reconstruct(diff, row - c.plane.stride, row, width);
            }
        }
    }
}

}  // namespace turbodicom::codec::jpeg::dec
