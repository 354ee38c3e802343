// RLE Lossless decoding (PS3.5 G.3.2, G.5). A single segment (8-bit grey) is unpacked
// straight into the output with memcpy and memset. With several segments, a piece of each
// is unpacked the same way into small scratch planes that stay in cache, and the pieces are
// interleaved into colour-by-pixel samples: faster than writing every byte at a stride.
//
// Tolerance of damaged frames follows pydicom's own RLE decoder: a segment ends where the
// next one starts (or at the end of the frame), a literal run cut short by the end of its
// segment copies what is there, a segment that decodes to more bytes than pixels is cut,
// and one that decodes to fewer is an error. Unlike pydicom, an offset pointing into the
// 64-byte header is rejected: it can only come from a corrupt header.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/rle/rle.hpp"
#include "codec/rle/rle_layout.hpp"

namespace turbodicom::codec::rle {

namespace {

std::uint32_t read_le32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

// Runs are mostly short: when both sides have room, a run of up to 32 bytes is moved as two
// fixed 16-byte blocks (or one 32-byte fill) rather than through a libc call of variable
// length. Bytes written past the run are overwritten by the next run or lie past `count`
// inside the room the caller allows; bytes read past the run stay inside the frame.
constexpr std::size_t short_run = 32;

inline void copy_run(std::uint8_t* out, std::size_t out_room, const std::uint8_t* in, std::size_t in_room,
                     std::size_t n) {
    if (n <= short_run && out_room >= short_run && in_room >= short_run) {
        std::memcpy(out, in, 16);
        std::memcpy(out + 16, in + 16, 16);
    } else {
        std::memcpy(out, in, n);
    }
}

inline void fill_run(std::uint8_t* out, std::size_t out_room, std::uint8_t value, std::size_t n) {
    if (n <= short_run && out_room >= short_run) {
        std::memset(out, value, short_run);
    } else {
        std::memset(out, value, n);
    }
}

// Unpacks one PackBits segment [in, end) into out[0 .. count) (PS3.5 G.3.2) until `count`
// bytes are written or the segment ends; `frame_end` bounds reads. Returns the number of
// bytes written.
std::size_t unpack_segment(const std::uint8_t* in, const std::uint8_t* end, const std::uint8_t* frame_end,
                           std::uint8_t* out, std::size_t count) {
    std::size_t written = 0;
    while (written < count && in < end) {
        const unsigned header = *in++;
        if (header < 128) {
            // Literal run of header + 1 bytes; a run cut short by the end copies what is there.
            const std::size_t available = std::min<std::size_t>(header + 1, std::size_t(end - in));
            const std::size_t n = std::min(available, count - written);
            copy_run(out + written, count - written, in, std::size_t(frame_end - in), n);
            written += n;
            in += available;
        } else if (header > 128) {
            // Replicate run: the next byte 257 - header times (1 - n for n as a signed byte).
            if (in == end) break;
            const std::size_t n = std::min<std::size_t>(257 - header, count - written);
            fill_run(out + written, count - written, *in++, n);
            written += n;
        }
        // header == 128 (-128) is a no-op.
    }
    return written;
}

// A PackBits segment decoded piece by piece: a run that does not fit in one piece is
// resumed in the next. Gives the same bytes as unpack_segment over the whole segment.
class segment_reader {
public:
    segment_reader(const std::uint8_t* in, const std::uint8_t* end, const std::uint8_t* frame_end)
        : in_(in), end_(end), frame_end_(frame_end) {}

    // Writes up to `count` next bytes of the segment to `out`, which has room for `room`
    // (>= count) bytes; returns how many were written.
    std::size_t read(std::uint8_t* out, std::size_t count, std::size_t room) {
        std::size_t written = 0;
        while (written < count) {
            if (pending_ > 0) {
                const std::size_t n = std::min(pending_, count - written);
                if (literal_) {
                    copy_run(out + written, room - written, in_, std::size_t(frame_end_ - in_), n);
                    in_ += n;
                } else {
                    fill_run(out + written, room - written, value_, n);
                }
                written += n;
                pending_ -= n;
                continue;
            }
            if (in_ == end_) break;
            const unsigned header = *in_++;
            if (header < 128) {
                // A literal cut short by the end of the segment copies what is there.
                pending_ = std::min<std::size_t>(header + 1, std::size_t(end_ - in_));
                literal_ = true;
            } else if (header > 128) {
                if (in_ == end_) break;
                value_ = *in_++;
                pending_ = 257 - header;
                literal_ = false;
            }
        }
        return written;
    }

private:
    const std::uint8_t* in_;
    const std::uint8_t* end_;
    const std::uint8_t* frame_end_;
    std::size_t pending_ = 0;  // bytes left of the current run
    bool literal_ = false;
    std::uint8_t value_ = 0;
};

// out[i * stride + k] = planes[k][i]: byte planes to samples. The common layouts have their
// own loops, over restrict pointers so that the compiler can vectorise them.
void interleave_2(std::uint8_t* __restrict out, const std::uint8_t* __restrict p0, const std::uint8_t* __restrict p1,
                  std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = p0[i];
        out[2 * i + 1] = p1[i];
    }
}

// Stride-3 byte stores vectorise only with byte shuffles (SSSE3), which the x86-64 baseline
// lacks: on x86-64 ELF systems the compiler builds an SSSE3 clone too and the loader picks
// one once, at start-up.
#if defined(__x86_64__) && defined(__ELF__) && (!defined(__clang__) || __clang_major__ >= 14)
#define RLE_SSSE3_CLONE __attribute__((target_clones("ssse3", "default")))
#else
#define RLE_SSSE3_CLONE
#endif

RLE_SSSE3_CLONE
void interleave_3(std::uint8_t* __restrict out, const std::uint8_t* __restrict p0, const std::uint8_t* __restrict p1,
                  const std::uint8_t* __restrict p2, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[3 * i] = p0[i];
        out[3 * i + 1] = p1[i];
        out[3 * i + 2] = p2[i];
    }
}

void interleave_4(std::uint8_t* __restrict out, const std::uint8_t* __restrict p0, const std::uint8_t* __restrict p1,
                  const std::uint8_t* __restrict p2, const std::uint8_t* __restrict p3, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[4 * i] = p0[i];
        out[4 * i + 1] = p1[i];
        out[4 * i + 2] = p2[i];
        out[4 * i + 3] = p3[i];
    }
}

void interleave_any(std::uint8_t* out, const std::uint8_t* const* planes, std::size_t stride, std::size_t n) {
    switch (stride) {
        case 2: interleave_2(out, planes[0], planes[1], n); return;
        case 3: interleave_3(out, planes[0], planes[1], planes[2], n); return;
        case 4: interleave_4(out, planes[0], planes[1], planes[2], planes[3], n); return;
        default:
            for (std::size_t k = 0; k < stride; ++k) {
                const std::uint8_t* plane = planes[k];
                for (std::size_t i = 0; i < n; ++i) out[i * stride + k] = plane[i];
            }
    }
}

// Pixels decoded per piece when there are several segments: the pieces of all segments
// stay in the first-level caches while they are interleaved.
constexpr std::size_t piece_pixels = 2048;

}  // namespace

std::uint64_t frame_bytes(const frame_desc& desc) {
    const unsigned bytes = sample_bytes(desc);
    if (desc.samples_per_pixel == 0) fail(codec_errc::bad_argument, 0, "samples per pixel is 0");
    if (desc.rows == 0 || desc.columns == 0) fail(codec_errc::bad_argument, 0, "an empty frame (rows or columns 0)");
    const std::uint64_t pixels = desc.pixels();  // rows and columns are 32-bit: no overflow
    const std::uint64_t per_pixel = std::uint64_t(desc.samples_per_pixel) * bytes;
    if (pixels > max_frame_bytes / per_pixel) {
        fail(codec_errc::too_large, 0,
             std::to_string(desc.rows) + " x " + std::to_string(desc.columns) + " x " +
                 std::to_string(per_pixel) + " bytes is over the frame size limit");
    }
    return pixels * per_pixel;
}

void decode(const std::uint8_t* src, std::size_t size, const frame_desc& desc, std::uint8_t* out,
            std::size_t out_size) {
    const unsigned bytes = sample_bytes(desc);
    const std::uint64_t needed = frame_bytes(desc);
    if (out_size < needed) {
        fail(codec_errc::bad_argument, 0,
             "output buffer of " + std::to_string(out_size) + " bytes, the frame needs " + std::to_string(needed));
    }
    if (size < header_size) {
        fail(codec_errc::truncated, size, "the frame is shorter than the 64-byte RLE header");
    }

    // PS3.5 G.5: number of segments, then 15 offsets (unused ones zero).
    const std::uint32_t segments = read_le32(src);
    if (segments > max_segments) {
        fail(codec_errc::bad_header, 0, "the RLE header gives " + std::to_string(segments) + " segments (at most 15)");
    }
    const std::uint64_t expected = std::uint64_t(desc.samples_per_pixel) * bytes;
    if (segments != expected) {
        fail(codec_errc::bad_header, 0,
             "the RLE header gives " + std::to_string(segments) + " segments, the image needs " +
                 std::to_string(expected));
    }
    std::uint32_t offsets[max_segments];
    for (std::uint32_t i = 0; i < segments; ++i) {
        offsets[i] = read_le32(src + 4 + 4 * i);
        if (offsets[i] < header_size) {
            fail(codec_errc::bad_header, 4 + 4 * i,
                 "segment " + std::to_string(i + 1) + " starts at " + std::to_string(offsets[i]) +
                     ", inside the RLE header");
        }
    }

    const std::size_t pixels = std::size_t(desc.pixels());
    // A segment runs to the start of the next one, the last to the end of the frame;
    // offsets past the end or out of order give a short (or empty) segment.
    auto segment_begin = [&](std::uint32_t i) { return std::min<std::size_t>(offsets[i], size); };
    auto segment_end = [&](std::uint32_t i) {
        const std::size_t end = i + 1 < segments ? std::min<std::size_t>(offsets[i + 1], size) : size;
        return std::max(end, segment_begin(i));
    };
    auto too_short = [&](std::uint32_t i, std::size_t written) {
        fail(codec_errc::truncated, segment_end(i),
             "segment " + std::to_string(i + 1) + " decodes to " + std::to_string(written) + " bytes, " +
                 std::to_string(pixels) + " expected");
    };

    if (segments == 1) {
        const std::size_t written = unpack_segment(src + segment_begin(0), src + segment_end(0), src + size, out, pixels);
        if (written < pixels) too_short(0, written);
        return;
    }

    // Several segments: decode a piece of each into scratch planes, then interleave them.
    // Output byte k of each pixel (sample k / bytes, little endian) comes from segment
    // (k / bytes) * bytes + bytes - 1 - k % bytes: segments are most significant byte first
    // within each sample (PS3.5 G.2).
    std::vector<segment_reader> readers;
    readers.reserve(segments);
    for (std::uint32_t i = 0; i < segments; ++i) readers.emplace_back(src + segment_begin(i), src + segment_end(i), src + size);
    const std::size_t stride = segments;
    const std::size_t piece = std::min(piece_pixels, pixels);
    // Each plane has room for short runs to spill past the piece.
    const std::size_t plane_room = piece + short_run;
    std::vector<std::uint8_t> scratch(plane_room * stride);
    const std::uint8_t* planes[max_segments];
    for (std::size_t k = 0; k < stride; ++k) {
        const std::size_t segment = (k / bytes) * bytes + bytes - 1 - k % bytes;
        planes[k] = scratch.data() + segment * plane_room;
    }
    std::vector<std::size_t> decoded(segments, 0);
    for (std::size_t done = 0; done < pixels; done += piece) {
        const std::size_t n = std::min(piece, pixels - done);
        for (std::uint32_t i = 0; i < segments; ++i) {
            const std::size_t written = readers[i].read(scratch.data() + i * plane_room, n, plane_room);
            decoded[i] += written;
            if (written < n) too_short(i, decoded[i]);
        }
        interleave_any(out + done * stride, planes, stride, n);
    }
}

}  // namespace turbodicom::codec::rle
