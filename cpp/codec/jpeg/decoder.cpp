// JPEG stream structure (ITU-T T.81 Annex B): markers, tables, frame and scan headers, and
// the assembly of the decoded components into the caller's buffer.
#include "codec/jpeg/decoder.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/jpeg/decode_stream.hpp"
#include "codec/jpeg/decode_upsample.hpp"
#include "codec/jpeg/markers.hpp"

namespace turbodicom::codec::jpeg {
namespace dec {

std::size_t find_scan_end(const std::uint8_t* data, std::size_t size, std::size_t pos) {
    while (pos + 1 < size) {
        const std::uint8_t* p = static_cast<const std::uint8_t*>(std::memchr(data + pos, 0xFF, size - pos));
        if (p == nullptr) return size;
        pos = static_cast<std::size_t>(p - data);
        std::size_t next = pos + 1;
        while (next < size && data[next] == 0xFF) ++next;  // fill bytes
        if (next >= size) return size;
        const std::uint8_t m = data[next];
        if (m != 0x00 && !marker::is_rst(m)) return next - 1;
        pos = next + 1;
    }
    return size;
}

void process_restart(const std::uint8_t* data, std::size_t size, bit_reader& reader) {
    // The reader stops at markers, so the RSTn that ends the interval is at or after pos().
    std::size_t pos = reader.pos();
    while (pos + 1 < size) {
        const std::uint8_t* p = static_cast<const std::uint8_t*>(std::memchr(data + pos, 0xFF, size - pos));
        if (p == nullptr) {
            pos = size;
            break;
        }
        pos = static_cast<std::size_t>(p - data);
        std::size_t next = pos + 1;
        while (next < size && data[next] == 0xFF) ++next;
        if (next >= size) {
            pos = size;
            break;
        }
        const std::uint8_t m = data[next];
        if (marker::is_rst(m)) {
            pos = next + 1;
            break;
        }
        if (m != 0x00) {
            // Another marker: the interval's data is missing; leave the marker in place so
            // that the rest of the scan decodes as zero bits.
            pos = next - 1;
            break;
        }
        pos = next + 1;
    }
    reader.reset_at(std::min(pos, size));
}

}  // namespace dec

namespace {

using dec::frame_component;
using dec::frame_header;
using dec::scan_header;

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t(p[0]) << 8) | p[1]; }

std::uint32_t ceil_div(std::uint64_t a, std::uint64_t b) { return static_cast<std::uint32_t>((a + b - 1) / b); }

class stream_parser {
public:
    stream_parser(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {
        if (size < 2 || data[0] != 0xFF || data[1] != marker::SOI) fail(codec_errc::bad_marker, 0, "not a JPEG stream: no SOI marker");
        pos_ = 2;
    }

    // The next marker code, or -1 at the end of the data. Bytes that are not a marker
    // (garbage between segments) are skipped as decoders do; fill bytes are skipped.
    int next_marker() {
        while (pos_ < size_) {
            if (data_[pos_] != 0xFF) {
                ++pos_;
                continue;
            }
            std::size_t next = pos_ + 1;
            while (next < size_ && data_[next] == 0xFF) ++next;
            if (next >= size_) {
                pos_ = size_;
                return -1;
            }
            const std::uint8_t m = data_[next];
            if (m == 0x00) {
                pos_ = next + 1;
                continue;
            }
            marker_offset_ = next - 1;
            pos_ = next + 1;
            return m;
        }
        return -1;
    }

    // The payload of the segment that starts at pos_: returns its offset, sets its length.
    std::size_t segment(std::size_t& length) {
        if (pos_ + 2 > size_) fail(codec_errc::truncated, pos_, "segment length past the end");
        const std::uint32_t l = be16(data_ + pos_);
        if (l < 2) fail(codec_errc::bad_marker, pos_, "segment length under 2");
        if (l > size_ - pos_) fail(codec_errc::truncated, pos_, "segment runs past the end of the data");
        const std::size_t start = pos_ + 2;
        length = l - 2;
        pos_ += l;
        return start;
    }

    void read_frame(std::uint8_t sof, frame_header& frame) {
        std::size_t len;
        const std::size_t p = segment(len);
        if (len < 6) fail(codec_errc::bad_header, p, "frame header too short");
        frame.process = sof;
        frame.precision = data_[p];
        frame.height = be16(data_ + p + 1);
        frame.width = be16(data_ + p + 3);
        const int nf = data_[p + 5];
        const int precision = frame.precision;
        bool precision_ok = false;
        if (sof == marker::SOF0) precision_ok = precision == 8;
        else if (sof == marker::SOF1 || sof == marker::SOF2) precision_ok = precision == 8 || precision == 12;
        else precision_ok = precision >= 2 && precision <= 16;
        if (!precision_ok) fail(codec_errc::bad_header, p, "sample precision not allowed for this process");
        if (frame.width == 0) fail(codec_errc::bad_header, p + 3, "frame width 0");
        if (nf < 1 || nf > 4) fail(nf < 1 ? codec_errc::bad_header : codec_errc::unsupported, p + 5, "frame component count not in 1..4");
        if (len < 6 + 3 * static_cast<std::size_t>(nf)) fail(codec_errc::bad_header, p, "frame header shorter than its components");
        frame.components.assign(static_cast<std::size_t>(nf), frame_component{});
        for (int i = 0; i < nf; ++i) {
            const std::uint8_t* c = data_ + p + 6 + 3 * i;
            frame_component& fc = frame.components[static_cast<std::size_t>(i)];
            fc.id = c[0];
            fc.h = c[1] >> 4;
            fc.v = c[1] & 15;
            fc.tq = c[2];
            if (fc.h < 1 || fc.h > 4 || fc.v < 1 || fc.v > 4) fail(codec_errc::bad_header, p + 7 + 3 * i, "sampling factor not in 1..4");
            if (fc.tq > 3) fail(codec_errc::bad_header, p + 8 + 3 * i, "quantisation table selector over 3");
            for (int j = 0; j < i; ++j)
                if (frame.components[static_cast<std::size_t>(j)].id == fc.id) fail(codec_errc::bad_header, p + 6 + 3 * i, "two components with one identifier");
        }
        if (nf == 1) {
            // A single component is never interleaved: its MCU is one data unit (A.2.2).
            frame.components[0].h = frame.components[0].v = 1;
        }
        frame.hmax = frame.vmax = 1;
        for (const frame_component& fc : frame.components) {
            frame.hmax = std::max(frame.hmax, fc.h);
            frame.vmax = std::max(frame.vmax, fc.v);
        }
    }

    // Sizes that depend on the height, which DNL may supply after the first scan.
    void derive_sizes(frame_header& frame) const {
        const std::uint32_t unit = static_cast<std::uint32_t>(frame.unit());
        frame.mcus_x = ceil_div(frame.width, unit * static_cast<std::uint32_t>(frame.hmax));
        frame.mcus_y = ceil_div(frame.height, unit * static_cast<std::uint32_t>(frame.vmax));
        for (frame_component& fc : frame.components) {
            fc.width = ceil_div(std::uint64_t(frame.width) * static_cast<std::uint32_t>(fc.h), static_cast<std::uint32_t>(frame.hmax));
            fc.height = ceil_div(std::uint64_t(frame.height) * static_cast<std::uint32_t>(fc.v), static_cast<std::uint32_t>(frame.vmax));
            fc.plane_width = frame.mcus_x * static_cast<std::uint32_t>(fc.h) * unit;
            fc.plane_height = frame.mcus_y * static_cast<std::uint32_t>(fc.v) * unit;
        }
    }

    void read_huffman(dec::tables& t) {
        std::size_t len;
        std::size_t p = segment(len);
        const std::size_t end = p + len;
        while (p < end) {
            if (end - p < 17) fail(codec_errc::bad_table, p, "Huffman table header truncated");
            const int tc = data_[p] >> 4, th = data_[p] & 15;
            if (tc > 1 || th > 3) fail(codec_errc::bad_table, p, "Huffman table class or identifier out of range");
            int count = 0;
            for (int i = 0; i < 16; ++i) count += data_[p + 1 + i];
            if (count > 256) fail(codec_errc::bad_table, p, "more than 256 Huffman codes");
            if (end - p - 17 < static_cast<std::size_t>(count)) fail(codec_errc::bad_table, p, "Huffman symbols past the segment");
            if (tc == 0) t.dc[th].build(data_ + p + 1, data_ + p + 17, count, true, p);
            else t.ac[th].build(data_ + p + 1, data_ + p + 17, count, false, p);
            p += 17 + static_cast<std::size_t>(count);
        }
    }

    void read_quantisation(dec::tables& t) {
        std::size_t len;
        std::size_t p = segment(len);
        const std::size_t end = p + len;
        while (p < end) {
            const int pq = data_[p] >> 4, tq = data_[p] & 15;
            if (pq > 1 || tq > 3) fail(codec_errc::bad_table, p, "quantisation table precision or identifier out of range");
            const std::size_t bytes = pq ? 128 : 64;
            if (end - p - 1 < bytes) fail(codec_errc::bad_table, p, "quantisation table past the segment");
            for (int k = 0; k < 64; ++k)
                t.quant[tq][k] = static_cast<std::uint16_t>(pq ? be16(data_ + p + 1 + 2 * k) : data_[p + 1 + k]);
            t.quant_defined[tq] = true;
            p += 1 + bytes;
        }
    }

    void read_restart_interval(dec::tables& t) {
        std::size_t len;
        const std::size_t p = segment(len);
        if (len < 2) fail(codec_errc::bad_marker, p, "DRI segment too short");
        t.restart_interval = be16(data_ + p);
    }

    void read_app(int m, stream_info& info) {
        std::size_t len;
        const std::size_t p = segment(len);
        if (m == marker::APP0 && len >= 5 && std::memcmp(data_ + p, "JFIF\0", 5) == 0) info.jfif = true;
        if (m == marker::APP14 && len >= 12 && std::memcmp(data_ + p, "Adobe", 5) == 0) info.adobe_transform = data_[p + 11];
    }

    void read_scan(const frame_header& frame, scan_header& scan) {
        std::size_t len;
        const std::size_t p = segment(len);
        if (len < 1) fail(codec_errc::bad_header, p, "scan header too short");
        const int ns = data_[p];
        if (ns < 1 || ns > static_cast<int>(frame.components.size())) fail(codec_errc::bad_header, p, "scan component count out of range");
        if (len < 4 + 2 * static_cast<std::size_t>(ns)) fail(codec_errc::bad_header, p, "scan header shorter than its components");
        scan.count = ns;
        int blocks = 0;
        for (int i = 0; i < ns; ++i) {
            const std::uint8_t* c = data_ + p + 1 + 2 * i;
            int found = -1;
            for (std::size_t j = 0; j < frame.components.size(); ++j)
                if (frame.components[j].id == c[0]) found = static_cast<int>(j);
            if (found < 0) fail(codec_errc::bad_header, p + 1 + 2 * i, "scan names a component not in the frame");
            for (int j = 0; j < i; ++j)
                if (scan.component[j] == found) fail(codec_errc::bad_header, p + 1 + 2 * i, "component twice in one scan");
            scan.component[i] = found;
            scan.dc_table[i] = c[1] >> 4;
            scan.ac_table[i] = c[1] & 15;
            if (scan.dc_table[i] > 3 || (!frame.lossless() && scan.ac_table[i] > 3))
                fail(codec_errc::bad_header, p + 2 + 2 * i, "Huffman table selector over 3");
            if (frame.lossless()) scan.ac_table[i] = 0;
            blocks += frame.components[static_cast<std::size_t>(found)].h * frame.components[static_cast<std::size_t>(found)].v;
        }
        // B.2.3: an interleaved MCU holds at most 10 data units.
        if (ns > 1 && blocks > 10) fail(codec_errc::bad_header, p, "more than 10 data units in an MCU");
        const std::uint8_t* tail = data_ + p + 1 + 2 * ns;
        scan.ss = tail[0];
        scan.se = tail[1];
        scan.ah = tail[2] >> 4;
        scan.al = tail[2] & 15;
        scan.data_offset = pos_;
    }

    // DNL (B.2.5) comes after the first scan; finds it when the frame header's height is 0.
    std::uint32_t find_dnl_height(std::size_t from) const {
        std::size_t pos = from;
        while (true) {
            pos = dec::find_scan_end(data_, size_, pos);
            if (pos >= size_ || size_ - pos < 6) return 0;
            if (data_[pos + 1] == marker::DNL && be16(data_ + pos + 2) == 4) return be16(data_ + pos + 4);
            if (data_[pos + 1] == marker::EOI) return 0;
            pos += 2;
        }
    }

    std::size_t pos() const { return pos_; }
    void set_pos(std::size_t p) { pos_ = p; }
    std::size_t marker_offset() const { return marker_offset_; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::size_t marker_offset_ = 0;
};

// Markers that carry a length and that the decoder does not need.
bool is_skippable(int m) { return (m >= 0xE0 && m <= 0xEF) || m == marker::COM || (m >= 0xF0 && m <= 0xFD) || m == 0xC8 || (m >= 0x02 && m <= 0xBF); }

// Parses up to the frame header; returns false if the stream ends first. Leaves the parser
// after the frame header.
void read_header(stream_parser& parser, stream_info& info, frame_header& frame, dec::tables* t) {
    while (true) {
        const int m = parser.next_marker();
        if (m < 0) fail(codec_errc::truncated, parser.pos(), "no frame header before the end of the data");
        if (m == marker::SOF0 || m == marker::SOF1 || m == marker::SOF2 || m == marker::SOF3) {
            parser.read_frame(static_cast<std::uint8_t>(m), frame);
            return;
        }
        if (marker::is_sof(static_cast<std::uint8_t>(m))) {
            fail(codec_errc::unsupported, parser.marker_offset(),
                 m >= 0xC9 ? "arithmetic-coded JPEG is not supported" : "hierarchical (differential) JPEG is not supported");
        }
        std::size_t len;
        switch (m) {
            case marker::DHT:
                if (t) parser.read_huffman(*t);
                else parser.segment(len);
                break;
            case marker::DQT:
                if (t) parser.read_quantisation(*t);
                else parser.segment(len);
                break;
            case marker::DRI:
                if (t) parser.read_restart_interval(*t);
                else parser.segment(len);
                break;
            case marker::DAC: fail(codec_errc::unsupported, parser.marker_offset(), "arithmetic-coded JPEG is not supported");
            case marker::SOS:
            case marker::DNL:
            case marker::EOI:
            case marker::SOI: fail(codec_errc::bad_marker, parser.marker_offset(), "marker before the frame header");
            default:
                if (m >= 0xE0 && m <= 0xEF) parser.read_app(m, info);
                else if (is_skippable(m)) parser.segment(len);
                // RSTn and TEM stand alone: nothing to skip.
                break;
        }
    }
}

void fill_info(const frame_header& frame, stream_info& info) {
    info.width = frame.width;
    info.height = frame.height;
    info.precision = static_cast<std::uint8_t>(frame.precision);
    info.process = frame.process;
    info.components.clear();
    for (const frame_component& fc : frame.components) {
        component_info ci;
        ci.id = fc.id;
        ci.h = static_cast<std::uint8_t>(fc.h);
        ci.v = static_cast<std::uint8_t>(fc.v);
        ci.tq = static_cast<std::uint8_t>(fc.tq);
        info.components.push_back(ci);
    }
}

// One component's samples during decoding: either the caller's buffer itself (one component,
// matching sample size) or a padded scratch plane.
template <class Sample>
struct component_store {
    std::unique_ptr<Sample[]> scratch;  // not zeroed: every sample read later is decoded first
    dec::plane_view<Sample> view;
    bool direct = false;
};

// How each component maps onto the output (expansion ratios, interleave).
template <class Sample>
std::vector<dec::component_output> component_outputs(const frame_header& frame,
                                                     const std::vector<component_store<Sample>>& stores, int shift,
                                                     bool smooth) {
    const std::size_t nc = frame.components.size();
    std::vector<dec::component_output> outputs(nc);
    for (std::size_t i = 0; i < nc; ++i) {
        const frame_component& fc = frame.components[i];
        dec::component_output& c = outputs[i];
        c.plane_width = fc.width;
        c.plane_height = fc.height;
        c.plane_stride = stores[i].view.stride;
        c.ratio_h = frame.hmax / fc.h;
        c.ratio_v = frame.vmax / fc.v;
        c.smooth = smooth;
        c.shift = shift;
        c.width = frame.width;
        c.height = frame.height;
        c.components = static_cast<int>(nc);
        c.index = static_cast<int>(i);
    }
    return outputs;
}

template <class Sample, class Out>
void compose(const frame_header& frame, const std::vector<component_store<Sample>>& stores, Out* out, int shift,
             bool smooth) {
    const std::size_t nc = frame.components.size();
    if (nc == 1 && stores[0].direct) {
        if (shift != 0) {
            for (std::size_t k = 0, n = std::size_t(frame.width) * frame.height; k < n; ++k)
                out[k] = static_cast<Out>(out[k] << shift);
        }
        return;
    }
    const std::vector<dec::component_output> outputs = component_outputs(frame, stores, shift, smooth);
    if constexpr (std::is_same_v<Sample, std::uint8_t> && std::is_same_v<Out, std::uint8_t>) {
        if (dec::row_composer::supports(outputs.data(), static_cast<int>(nc))) {
            const std::uint8_t* planes[4];
            for (std::size_t i = 0; i < nc; ++i) planes[i] = stores[i].view.data;
            dec::row_composer(outputs.data(), static_cast<int>(nc)).write_rows(planes, out, 0, frame.height);
            return;
        }
    }
    if (nc == 3 && shift == 0 && frame.hmax == 1 && frame.vmax == 1) {
        // Three full-size planes: one pass that interleaves them.
        const Sample* p0 = stores[0].view.data;
        const Sample* p1 = stores[1].view.data;
        const Sample* p2 = stores[2].view.data;
        for (std::uint32_t y = 0; y < frame.height; ++y) {
            const std::ptrdiff_t r0 = static_cast<std::ptrdiff_t>(y) * stores[0].view.stride;
            const std::ptrdiff_t r1 = static_cast<std::ptrdiff_t>(y) * stores[1].view.stride;
            const std::ptrdiff_t r2 = static_cast<std::ptrdiff_t>(y) * stores[2].view.stride;
            Out* o = out + std::size_t(y) * frame.width * 3;
            for (std::uint32_t x = 0; x < frame.width; ++x) {
                o[3 * x] = static_cast<Out>(p0[r0 + x]);
                o[3 * x + 1] = static_cast<Out>(p1[r1 + x]);
                o[3 * x + 2] = static_cast<Out>(p2[r2 + x]);
            }
        }
        return;
    }
    for (std::size_t i = 0; i < nc; ++i) dec::write_component(stores[i].view.data, outputs[i], out);
}

// Decoding in strips: an 8-bit frame whose first scan carries every component, interleaved,
// in a layout row_composer handles. The planes then hold a few MCU rows each, and the output
// rows are written as soon as the MCU rows they need are decoded, while those are in cache;
// nothing proportional to the image is allocated besides the output.
constexpr std::uint32_t strip_ring = 3;  // MCU rows per plane: the 2:1 filters look one row back

struct strip_writer {
    const frame_header* frame;
    std::vector<dec::component_output> outputs;
    dec::row_composer composer;
    const std::uint8_t* planes[4];
    std::uint8_t* out;
    std::uint32_t next_row = 0;  // first output row not written yet

    strip_writer(const frame_header& f, std::vector<dec::component_output> o, std::uint8_t* dst)
        : frame(&f), outputs(std::move(o)), composer(outputs.data(), static_cast<int>(outputs.size())), out(dst) {}

    // After `mcu_rows` MCU rows: output row y needs component rows up to y / ratio_v + 1.
    static void rows_done(void* context, std::uint32_t mcu_rows) {
        strip_writer& w = *static_cast<strip_writer*>(context);
        const frame_header& f = *w.frame;
        std::uint32_t end = f.height;
        if (mcu_rows < f.mcus_y) {
            for (std::size_t i = 0; i < w.outputs.size(); ++i) {
                const dec::component_output& c = w.outputs[i];
                const std::uint64_t avail = std::uint64_t(mcu_rows) * 8 * static_cast<std::uint32_t>(f.components[i].v);
                if (avail >= c.plane_height) continue;
                const std::uint64_t limit = c.ratio_v == 1 ? avail : 2 * avail - 1;
                end = static_cast<std::uint32_t>(std::min<std::uint64_t>(end, limit));
            }
        }
        if (end > w.next_row) {
            w.composer.write_rows(w.planes, w.out, w.next_row, end);
            w.next_row = end;
        }
    }
};

template <class Sample, class Out>
void decode_frame(const std::uint8_t* data, std::size_t size, stream_parser& parser, frame_header& frame,
                  dec::tables& t, Out* out) {
    const std::size_t nc = frame.components.size();
    std::vector<component_store<Sample>> stores(nc);
    std::vector<dec::plane_view<Sample>> views(nc);
    // The caller's buffer holds the samples directly when there is one component of our type.
    const bool direct = nc == 1 && sizeof(Sample) == sizeof(Out);
    // Planes are allocated at the first scan, whole or as strips.
    auto allocate = [&](std::uint32_t ring) {
        for (std::size_t i = 0; i < nc; ++i) {
            const frame_component& fc = frame.components[i];
            component_store<Sample>& s = stores[i];
            if (direct) {
                s.direct = true;
                s.view.data = reinterpret_cast<Sample*>(out);
                s.view.stride = frame.width;
                s.view.width = frame.width;
                s.view.height = frame.height;
            } else {
                const std::size_t rows = ring != 0 ? std::size_t(ring) * 8 * static_cast<std::size_t>(fc.v) : fc.plane_height;
                s.scratch.reset(new Sample[std::size_t(fc.plane_width) * rows]);
                s.view.data = s.scratch.get();
                s.view.stride = fc.plane_width;
                s.view.width = fc.plane_width;
                s.view.height = fc.plane_height;  // rows of the component; a strip holds some
            }
            views[i] = s.view;
        }
    };
    bool allocated = false;
    bool written = false;  // the output was written during the scan (strips)

    int shift = 0;
    bool any_scan = false;
    while (true) {
        const int m = parser.next_marker();
        if (m < 0 || m == marker::EOI) break;
        std::size_t len;
        switch (m) {
            case marker::DHT: parser.read_huffman(t); break;
            case marker::DQT: parser.read_quantisation(t); break;
            case marker::DRI: parser.read_restart_interval(t); break;
            case marker::DNL: parser.segment(len); break;
            case marker::SOS: {
                scan_header scan;
                parser.read_scan(frame, scan);
                dec::bit_reader reader(data, size, scan.data_offset);
                if (written) {
                    // Every component was in the first scan: a further one is not valid; skip it.
                    parser.set_pos(dec::find_scan_end(data, size, scan.data_offset));
                    break;
                }
                if constexpr (std::is_same_v<Sample, std::uint8_t> && std::is_same_v<Out, std::uint8_t>) {
                    if (!allocated && nc > 1 && static_cast<std::size_t>(scan.count) == nc) {
                        std::vector<dec::component_output> outputs = component_outputs(frame, stores, 0, true);
                        for (std::size_t i = 0; i < nc; ++i) {
                            outputs[i].plane_stride = frame.components[i].plane_width;
                            outputs[i].ring_rows = strip_ring * 8 * static_cast<std::uint32_t>(frame.components[i].v);
                        }
                        if (dec::row_composer::supports(outputs.data(), static_cast<int>(nc))) {
                            allocate(strip_ring);
                            allocated = true;
                            strip_writer writer(frame, std::move(outputs), out);
                            for (std::size_t i = 0; i < nc; ++i) writer.planes[i] = views[i].data;
                            const dec::mcu_rows rows{strip_ring, &strip_writer::rows_done, &writer};
                            dec::decode_dct_scan<Sample>(data, size, frame, scan, t, views.data(), reader, &rows);
                            written = true;
                        }
                    }
                }
                if (!allocated) {
                    allocate(0);
                    allocated = true;
                }
                if (!written) {
                    if constexpr (std::is_same_v<Sample, std::uint16_t>) {
                        if (frame.lossless()) {
                            dec::decode_lossless_scan(data, size, frame, scan, t, views.data(), reader);
                            shift = scan.al;
                        } else {
                            dec::decode_dct_scan<Sample>(data, size, frame, scan, t, views.data(), reader);
                        }
                    } else {
                        dec::decode_dct_scan<Sample>(data, size, frame, scan, t, views.data(), reader);
                    }
                }
                for (int i = 0; i < scan.count; ++i) frame.components[static_cast<std::size_t>(scan.component[i])].decoded = true;
                any_scan = true;
                parser.set_pos(dec::find_scan_end(data, size, std::min(reader.pos(), size)));
                break;
            }
            case marker::DAC: fail(codec_errc::unsupported, parser.marker_offset(), "arithmetic-coded JPEG is not supported");
            case marker::SOI: fail(codec_errc::bad_marker, parser.marker_offset(), "SOI inside the stream");
            default:
                if (marker::is_sof(static_cast<std::uint8_t>(m))) fail(codec_errc::bad_marker, parser.marker_offset(), "second frame header");
                if (is_skippable(m)) parser.segment(len);
                break;
        }
    }
    if (!any_scan) fail(codec_errc::truncated, parser.pos(), "no scan before the end of the data");
    if (written) return;
    // A component that no scan carried (a stream cut short): the mid-grey that all-zero data gives.
    const int precision = frame.precision;
    for (std::size_t i = 0; i < nc; ++i) {
        if (frame.components[i].decoded) continue;
        const int mid = frame.lossless() ? (1 << (precision - shift - 1)) : (1 << (precision - 1));
        component_store<Sample>& s = stores[i];
        for (std::uint32_t y = 0; y < s.view.height; ++y)
            std::fill_n(s.view.data + static_cast<std::ptrdiff_t>(y) * s.view.stride, s.view.width, static_cast<Sample>(mid));
    }
    compose(frame, stores, out, shift, !frame.lossless());
}

}  // namespace

stream_info read_info(const std::uint8_t* data, std::size_t size) {
    if (data == nullptr) fail(codec_errc::bad_argument, 0, "no data");
    stream_parser parser(data, size);
    stream_info info;
    frame_header frame;
    read_header(parser, info, frame, nullptr);
    if (frame.height == 0) frame.height = parser.find_dnl_height(parser.pos());
    fill_info(frame, info);
    return info;
}

void decode(const std::uint8_t* data, std::size_t size, std::uint8_t* out, std::size_t out_size, unsigned sample_bytes) {
    if (data == nullptr || out == nullptr) fail(codec_errc::bad_argument, 0, "null buffer");
    if (sample_bytes != 1 && sample_bytes != 2) fail(codec_errc::bad_argument, 0, "sample_bytes must be 1 or 2");
    stream_parser parser(data, size);
    stream_info info;
    frame_header frame;
    // Default-initialised: a Huffman lookup table is filled by build() before anything reads it
    // (scans check `defined`), so the tables need no clearing here.
    std::unique_ptr<dec::tables> t(new dec::tables);
    read_header(parser, info, frame, t.get());
    if (frame.process == marker::SOF2) fail(codec_errc::unsupported, 0, "progressive JPEG is not supported");
    if (frame.height == 0) {
        frame.height = parser.find_dnl_height(parser.pos());
        if (frame.height == 0) fail(codec_errc::bad_header, 0, "frame height 0 and no DNL marker");
    }
    const std::uint64_t nc = frame.components.size();
    const std::uint64_t expected = std::uint64_t(frame.width) * frame.height * nc * sample_bytes;
    if (expected > max_frame_bytes) fail(codec_errc::too_large, 0, "decoded frame larger than the limit");
    if (out_size != expected) fail(codec_errc::bad_argument, 0, "output size does not match the frame");
    if (frame.precision > 8 && sample_bytes != 2) fail(codec_errc::bad_argument, 0, "precision over 8 needs 2-byte samples");
    for (const frame_component& fc : frame.components) {
        // Output is at full resolution: only whole-number expansion ratios are defined here.
        if (frame.hmax % fc.h != 0 || frame.vmax % fc.v != 0)
            fail(codec_errc::unsupported, 0, "sampling factors with a fractional expansion ratio");
    }
    parser.derive_sizes(frame);

    // Scratch planes are sized from the header: refuse before allocating when the data could
    // not describe so many data units (each needs at least one bit, two for DCT blocks),
    // allowing generously for truncated streams.
    std::uint64_t units = 0, plane_bytes = 0;
    const std::uint64_t sample_size = frame.precision > 8 ? 2 : 1;
    for (const frame_component& fc : frame.components) {
        const std::uint64_t samples = std::uint64_t(fc.plane_width) * fc.plane_height;
        units += frame.lossless() ? samples : samples / 64;
        plane_bytes += samples * (frame.lossless() ? 2 : sample_size);
    }
    const std::uint64_t min_bits_per_unit = frame.lossless() ? 1 : 2;
    if (std::uint64_t(size) * 8 * 16 < units * min_bits_per_unit)
        fail(codec_errc::truncated, parser.pos(), "far too little data for the frame size");
    if (plane_bytes > max_frame_bytes) fail(codec_errc::too_large, 0, "decoding planes larger than the limit");

    if (frame.lossless()) {
        if (sample_bytes == 1) decode_frame<std::uint16_t, std::uint8_t>(data, size, parser, frame, *t, out);
        else decode_frame<std::uint16_t, std::uint16_t>(data, size, parser, frame, *t, reinterpret_cast<std::uint16_t*>(out));
    } else if (frame.precision == 8) {
        if (sample_bytes == 1) decode_frame<std::uint8_t, std::uint8_t>(data, size, parser, frame, *t, out);
        else decode_frame<std::uint8_t, std::uint16_t>(data, size, parser, frame, *t, reinterpret_cast<std::uint16_t*>(out));
    } else {
        decode_frame<std::uint16_t, std::uint16_t>(data, size, parser, frame, *t, reinterpret_cast<std::uint16_t*>(out));
    }
}

}  // namespace turbodicom::codec::jpeg
