// RLE Lossless encoding (PS3.5 G.3.1, G.4, G.5): one PackBits segment per byte plane, most
// significant byte of each sample first. As G.3.1 requires (and pydicom's encoder does),
// every row is packed on its own so that no run crosses a row boundary.
#include <algorithm>
#include <string>

#include "codec/common/codec_error.hpp"
#include "codec/rle/rle.hpp"
#include "codec/rle/rle_layout.hpp"

namespace turbodicom::codec::rle {

namespace {

void put_literal(std::vector<std::uint8_t>& out, const std::uint8_t* bytes, std::size_t n) {
    while (n > 0) {
        const std::size_t chunk = std::min<std::size_t>(n, 128);
        out.push_back(std::uint8_t(chunk - 1));
        out.insert(out.end(), bytes, bytes + chunk);
        bytes += chunk;
        n -= chunk;
    }
}

// PackBits of one row. Runs of 3 or more equal bytes become Replicate Runs. A run of 2 is a
// Replicate Run only when no literal is pending; otherwise it joins the literal, which costs
// the same or less than ending the literal (G.3.1's advice on 2-byte repeats).
void pack_row(std::vector<std::uint8_t>& out, const std::uint8_t* row, std::size_t n) {
    std::size_t i = 0;
    std::size_t literal_start = 0;
    while (i < n) {
        const std::uint8_t value = row[i];
        const std::size_t limit = std::min<std::size_t>(n - i, 128);
        std::size_t run = 1;
        while (run < limit && row[i + run] == value) ++run;
        const bool literal_pending = literal_start < i;
        if (run >= 3 || (run == 2 && !literal_pending)) {
            put_literal(out, row + literal_start, i - literal_start);
            out.push_back(std::uint8_t(257 - run));  // -(run - 1) as a signed byte
            out.push_back(value);
            i += run;
            literal_start = i;
        } else {
            i += run;
        }
    }
    put_literal(out, row + literal_start, n - literal_start);
}

void put_le32(std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v);
    p[1] = std::uint8_t(v >> 8);
    p[2] = std::uint8_t(v >> 16);
    p[3] = std::uint8_t(v >> 24);
}

}  // namespace

std::vector<std::uint8_t> encode(const std::uint8_t* samples, std::size_t size, const frame_desc& desc) {
    const unsigned bytes = sample_bytes(desc);
    const std::uint64_t needed = frame_bytes(desc);
    if (size != needed) {
        fail(codec_errc::bad_argument, 0,
             "input of " + std::to_string(size) + " bytes, the frame has " + std::to_string(needed));
    }
    const std::uint64_t segment_count = std::uint64_t(desc.samples_per_pixel) * bytes;
    if (segment_count > max_segments) {
        fail(codec_errc::bad_argument, 0,
             std::to_string(segment_count) + " byte planes: RLE allows at most 15 segments");
    }

    const std::size_t stride = std::size_t(segment_count);
    const std::size_t columns = desc.columns;
    std::vector<std::uint8_t> out(header_size, 0);
    // Worst case per row: the row plus one header byte per 128 literals.
    out.reserve(header_size + size + size / 128 + std::size_t(desc.rows) * stride * 2 + stride);
    std::vector<std::uint8_t> row(columns);

    put_le32(out.data(), std::uint32_t(segment_count));
    for (std::size_t segment = 0; segment < stride; ++segment) {
        const std::size_t offset = out.size();
        if (offset > UINT32_MAX) fail(codec_errc::too_large, 0, "the encoded frame is over 4 GiB");
        put_le32(out.data() + 4 + 4 * segment, std::uint32_t(offset));

        const std::size_t sample = segment / bytes;
        const std::size_t byte_in_sample = bytes - 1 - segment % bytes;
        const std::uint8_t* plane = samples + sample * bytes + byte_in_sample;
        for (std::size_t r = 0; r < desc.rows; ++r) {
            const std::uint8_t* in = plane + r * columns * stride;
            if (stride == 1) {
                pack_row(out, in, columns);
                continue;
            }
            for (std::size_t c = 0; c < columns; ++c) row[c] = in[c * stride];
            pack_row(out, row.data(), columns);
        }
        if ((out.size() - offset) % 2) out.push_back(0);  // G.4: segments have even length
    }
    return out;
}

}  // namespace turbodicom::codec::rle
