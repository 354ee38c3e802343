// The decoder's view of a JPEG stream (ITU-T T.81 Annex B): the frame header, the tables in
// force at each scan, and the scan headers, with the derived sizes (A.1.1, A.2) that the scan
// decoders need. Internal to the JPEG decoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "codec/jpeg/bit_reader.hpp"
#include "codec/jpeg/decoder.hpp"
#include "codec/jpeg/huffman_decode.hpp"

namespace turbodicom::codec::jpeg::dec {

struct frame_component {
    std::uint8_t id = 0;
    int h = 1, v = 1;
    int tq = 0;
    std::uint32_t width = 0, height = 0;    // component size, A.1.1: ceil(X * h / Hmax)
    std::uint32_t plane_width = 0;           // padded to whole MCUs of an interleaved scan
    std::uint32_t plane_height = 0;
    bool decoded = false;                    // appeared in a scan
};

struct frame_header {
    std::uint8_t process = 0;
    int precision = 0;
    std::uint32_t width = 0, height = 0;
    std::vector<frame_component> components;
    int hmax = 1, vmax = 1;
    std::uint32_t mcus_x = 0, mcus_y = 0;   // MCUs of an interleaved scan
    bool lossless() const { return process == 0xC3; }
    int unit() const { return lossless() ? 1 : 8; }  // samples per data unit side
};

struct scan_header {
    int count = 0;
    int component[4] = {0, 0, 0, 0};  // indices into frame_header::components
    int dc_table[4] = {0, 0, 0, 0};
    int ac_table[4] = {0, 0, 0, 0};
    int ss = 0, se = 0, ah = 0, al = 0;
    std::size_t data_offset = 0;      // first byte of the entropy-coded segment
};

struct tables {
    dc_huffman_table dc[4];
    ac_huffman_table ac[4];
    // Quantisation tables in zig-zag order, padded with zeros past 63 so that a corrupt run
    // that overshoots the block reads a valid entry.
    std::uint16_t quant[4][80] = {};
    bool quant_defined[4] = {false, false, false, false};
    std::uint32_t restart_interval = 0;
};

// A destination for one component's decoded samples: rows of `stride` elements.
template <class Sample>
struct plane_view {
    Sample* data = nullptr;
    std::ptrdiff_t stride = 0;
    std::uint32_t width = 0, height = 0;  // writable area; blocks are clipped to it
};

// Where an interleaved scan (A.2.3) puts its MCU rows, and whom it tells when one is done:
// with `ring` != 0 the planes hold only `ring` MCU rows, MCU row m going to slot m % ring, so
// that the caller consumes each row while it is in cache (it must do so before the slot is
// reused, that is from `done`).
struct mcu_rows {
    std::uint32_t ring = 0;
    void (*done)(void* context, std::uint32_t rows_done) = nullptr;  // after each MCU row
    void* context = nullptr;
};

// Lossy scans. Samples are uint8_t for 8-bit precision, uint16_t for 12-bit. `rows` applies
// to interleaved scans only; null: whole planes, no notification.
template <class Sample>
void decode_dct_scan(const std::uint8_t* data, std::size_t size, const frame_header& frame, const scan_header& scan,
                     const tables& t, const plane_view<Sample>* planes, bit_reader& reader,
                     const mcu_rows* rows = nullptr);

// Lossless scans: `planes` receive the reconstructed samples already shifted left by Pt.
void decode_lossless_scan(const std::uint8_t* data, std::size_t size, const frame_header& frame,
                          const scan_header& scan, const tables& t, const plane_view<std::uint16_t>* planes,
                          bit_reader& reader);

// Restart marker handling shared by the scan decoders: called when an interval is complete.
// Skips to the marker, consumes it if it is RSTn and resets the reader after it.
void process_restart(const std::uint8_t* data, std::size_t size, bit_reader& reader);

// The first marker at or after `pos` that ends the entropy-coded data (not RSTn, not a
// stuffed 0xFF 0x00, after any fill bytes). Returns the offset of its 0xFF, or size.
std::size_t find_scan_end(const std::uint8_t* data, std::size_t size, std::size_t pos);

}  // namespace turbodicom::codec::jpeg::dec
