// Native pixel data: frames sliced out of the Pixel Data value as pydicom slices them
// (pydicom.pixels.decoders.base, _as_array_native), and the per-sample steps after decoding.
#include "codec/native/native.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"

namespace turbodicom::codec::native {

namespace {

// Bytes per sample in the output: bit-packed samples are unpacked to one byte each.
unsigned output_sample_bytes(unsigned bits_allocated) {
    switch (bits_allocated) {
        case 1:
        case 8: return 1;
        case 16: return 2;
        case 32: return 4;
        case 64: return 8;
        default:
            fail(codec_errc::unsupported, 0,
                 std::to_string(bits_allocated) + " bits allocated (1, 8, 16, 32 or 64 supported)");
    }
}

// The samples of one frame, checked against max_frame_bytes for the output.
std::uint64_t frame_samples(const frame_desc& desc) {
    if (desc.samples_per_pixel == 0) fail(codec_errc::bad_argument, 0, "samples per pixel is 0");
    const std::uint64_t per_pixel = std::uint64_t(desc.samples_per_pixel) * output_sample_bytes(desc.bits_allocated);
    if (desc.pixels() > max_frame_bytes / per_pixel) {
        fail(codec_errc::too_large, 0,
             std::to_string(desc.rows) + " x " + std::to_string(desc.columns) + " x " +
                 std::to_string(per_pixel) + " bytes is over the frame size limit");
    }
    return desc.samples();
}

std::string frame_name(std::uint64_t index) { return "frame " + std::to_string(index + 1); }

// Bit k of the packed stream is bit k % 8 of byte k / 8 (PS3.5 8.1.1, little-endian bit
// order). Writes `count` bytes of 0 or 1 starting from bit `first`.
void unpack_bits(const std::uint8_t* src, std::uint64_t first, std::uint64_t count, std::uint8_t* out) {
    std::uint64_t k = 0;
    std::uint64_t bit = first;
    for (; k < count && (bit & 7) != 0; ++k, ++bit) out[k] = (src[bit >> 3] >> (bit & 7)) & 1;
    const std::uint8_t* p = src + (bit >> 3);
    for (; count - k >= 8; k += 8, ++p) {
        const unsigned byte = *p;
        for (unsigned i = 0; i < 8; ++i) out[k + i] = (byte >> i) & 1;
    }
    for (unsigned i = 0; k < count; ++k, ++i) out[k] = (*p >> i) & 1;
}

template <unsigned Bytes>
void copy_swapped(const std::uint8_t* src, std::uint64_t samples, std::uint8_t* out) {
    for (std::uint64_t i = 0; i < samples; ++i) {
        for (unsigned b = 0; b < Bytes; ++b) out[i * Bytes + b] = src[i * Bytes + Bytes - 1 - b];
    }
}

// Copies `samples` samples of `bytes` bytes, reversing the byte order of each when the
// source is big endian.
void copy_samples(const std::uint8_t* src, std::uint64_t samples, unsigned bytes, bool big_endian, std::uint8_t* out) {
    if (!big_endian || bytes == 1) {
        std::memcpy(out, src, std::size_t(samples * bytes));
        return;
    }
    switch (bytes) {
        case 2: copy_swapped<2>(src, samples, out); return;
        case 4: copy_swapped<4>(src, samples, out); return;
        default: copy_swapped<8>(src, samples, out); return;
    }
}

template <unsigned Bytes>
void interleave(const std::uint8_t* src, std::uint8_t* out, std::uint64_t pixels, unsigned samples) {
    for (unsigned s = 0; s < samples; ++s) {
        const std::uint8_t* plane = src + s * pixels * Bytes;
        std::uint8_t* dst = out + s * Bytes;
        const std::size_t step = std::size_t(samples) * Bytes;
        for (std::uint64_t p = 0; p < pixels; ++p) std::memcpy(dst + p * step, plane + p * Bytes, Bytes);
    }
}

template <class U>
U load_le(const std::uint8_t* p) {
    U v = 0;
    for (unsigned b = 0; b < sizeof(U); ++b) v = U(v | U(U(p[b]) << (8 * b)));
    return v;
}

template <class U>
void store_le(std::uint8_t* p, U v) {
    for (unsigned b = 0; b < sizeof(U); ++b) p[b] = std::uint8_t(v >> (8 * b));
}

// Keeps the low `stored` bits (0 < stored < width) and sign-extends them when signed:
// the same values as shifting left and back in a signed or unsigned dtype.
template <class U>
void keep_low_bits(std::uint8_t* data, std::uint64_t count, unsigned stored, bool is_signed) {
    const U mask = U((U(1) << stored) - 1);
    const U sign = U(U(1) << (stored - 1));
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint8_t* p = data + i * sizeof(U);
        U v = U(load_le<U>(p) & mask);
        if (is_signed) v = U((v ^ sign) - sign);  // two's complement sign extension
        store_le<U>(p, v);
    }
}

}  // namespace

std::uint64_t frame_bits(const frame_desc& desc) {
    return frame_samples(desc) * desc.bits_allocated;
}

void planar_to_interleaved(const std::uint8_t* src, std::uint8_t* out, std::uint64_t pixels, unsigned samples,
                           unsigned sample_bytes) {
    switch (sample_bytes) {
        case 1: interleave<1>(src, out, pixels, samples); return;
        case 2: interleave<2>(src, out, pixels, samples); return;
        case 4: interleave<4>(src, out, pixels, samples); return;
        case 8: interleave<8>(src, out, pixels, samples); return;
        default:
            for (unsigned s = 0; s < samples; ++s) {
                for (std::uint64_t p = 0; p < pixels; ++p) {
                    std::memcpy(out + (p * samples + s) * sample_bytes, src + (s * pixels + p) * sample_bytes,
                                sample_bytes);
                }
            }
    }
}

void decode_frame(const std::uint8_t* src, std::size_t size, std::uint64_t index, const frame_desc& desc,
                  bool big_endian, bool ow_swapped, std::uint8_t* out, std::size_t out_size) {
    const std::uint64_t samples = frame_samples(desc);
    const unsigned bytes = output_sample_bytes(desc.bits_allocated);
    const std::uint64_t out_needed = samples * bytes;
    if (out_size < out_needed) {
        fail(codec_errc::bad_argument, 0,
             "output buffer of " + std::to_string(out_size) + " bytes, the frame needs " + std::to_string(out_needed));
    }
    if (ow_swapped && desc.bits_allocated != 8) {
        fail(codec_errc::bad_argument, 0, "OW byte swapping applies to 8-bit data only");
    }
    if (samples == 0) return;

    // Planar data is put together in scratch and then interleaved; its size is bounded by
    // the frame, which is known to lie inside `src`.
    const bool planar = desc.planar_configuration == 1 && desc.samples_per_pixel > 1;
    std::vector<std::uint8_t> scratch;
    std::uint8_t* dst = out;
    auto use_scratch = [&] {
        if (planar) {
            scratch.resize(std::size_t(out_needed));
            dst = scratch.data();
        }
    };

    if (desc.bits_allocated == 1) {
        // Frames follow each other bit by bit: frame `index` starts at bit index * samples
        // (pydicom unpacks from there; byte order does not apply to packed bits).
        const std::uint64_t total_bits = std::uint64_t(size) > UINT64_MAX / 8 ? UINT64_MAX : std::uint64_t(size) * 8;
        if (index > total_bits / samples || index * samples + samples > total_bits) {
            fail(codec_errc::truncated, size, "the pixel data is too short for " + frame_name(index));
        }
        use_scratch();
        unpack_bits(src, index * samples, samples, dst);
    } else {
        const std::uint64_t frame_bytes = samples * bytes;
        if (index > size / frame_bytes || index * frame_bytes + frame_bytes > size) {
            fail(codec_errc::truncated, size, "the pixel data is too short for " + frame_name(index));
        }
        const std::uint64_t start = index * frame_bytes;
        use_scratch();
        if (ow_swapped) {
            // 8-bit data written as OW in big endian: bytes swapped pairwise across the whole
            // value, so logical byte p is at p ^ 1 (an odd-length frame starts or ends in
            // the middle of a pair, and a trailing padding byte moves to the front of its pair).
            const std::uint64_t last = start + frame_bytes - 1;
            if ((last ^ 1) >= size) {
                fail(codec_errc::truncated, size, "the pixel data is too short for " + frame_name(index));
            }
            for (std::uint64_t p = 0; p < frame_bytes; ++p) dst[p] = src[(start + p) ^ 1];
        } else {
            copy_samples(src + start, samples, bytes, big_endian, dst);
        }
    }
    if (planar) planar_to_interleaved(scratch.data(), out, desc.pixels(), desc.samples_per_pixel, bytes);
}

void correct_unused_bits(std::uint8_t* data, std::uint64_t count, unsigned bits_allocated, unsigned bits_stored,
                         bool is_signed) {
    if (bits_allocated != 8 && bits_allocated != 16 && bits_allocated != 32 && bits_allocated != 64) {
        fail(codec_errc::bad_argument, 0,
             "unused-bit correction of " + std::to_string(bits_allocated) + "-bit samples (8, 16, 32 or 64)");
    }
    if (bits_stored > bits_allocated) {
        fail(codec_errc::bad_argument, 0,
             std::to_string(bits_stored) + " bits stored in " + std::to_string(bits_allocated) + " allocated");
    }
    if (bits_stored == bits_allocated) return;
    const std::uint64_t bytes = bits_allocated / 8;
    if (count > max_frame_bytes / bytes) fail(codec_errc::too_large, 0, "over the frame size limit");
    if (bits_stored == 0) {
        // A shift by the whole width leaves nothing (numpy gives 0 for shifts >= width).
        std::memset(data, 0, std::size_t(count * bytes));
        return;
    }
    switch (bits_allocated) {
        case 8: keep_low_bits<std::uint8_t>(data, count, bits_stored, is_signed); return;
        case 16: keep_low_bits<std::uint16_t>(data, count, bits_stored, is_signed); return;
        case 32: keep_low_bits<std::uint32_t>(data, count, bits_stored, is_signed); return;
        default: keep_low_bits<std::uint64_t>(data, count, bits_stored, is_signed); return;
    }
}

std::uint64_t ybr_full_422_frame_bytes(const frame_desc& desc) {
    if (desc.samples_per_pixel != 3) fail(codec_errc::bad_argument, 0, "YBR_FULL_422 needs 3 samples per pixel");
    if (desc.bits_allocated == 1) fail(codec_errc::unsupported, 0, "YBR_FULL_422 with 1 bit allocated");
    const std::uint64_t samples = frame_samples(desc);
    return samples / 3 * 2 * output_sample_bytes(desc.bits_allocated);
}

void ybr_full_422_to_full(const std::uint8_t* src, std::size_t size, std::uint64_t index, const frame_desc& desc,
                          bool big_endian, std::uint8_t* out, std::size_t out_size) {
    const std::uint64_t frame_bytes = ybr_full_422_frame_bytes(desc);
    const unsigned bytes = output_sample_bytes(desc.bits_allocated);
    const std::uint64_t pixels = desc.pixels();
    if (pixels % 2) fail(codec_errc::bad_argument, 0, "YBR_FULL_422 with an odd number of pixels");
    const std::uint64_t out_needed = pixels * 3 * bytes;
    if (out_size < out_needed) {
        fail(codec_errc::bad_argument, 0,
             "output buffer of " + std::to_string(out_size) + " bytes, the frame needs " + std::to_string(out_needed));
    }
    if (pixels == 0) return;
    if (index > size / frame_bytes || index * frame_bytes + frame_bytes > size) {
        fail(codec_errc::truncated, size, "the pixel data is too short for " + frame_name(index));
    }
    // PS3.3 C.7.6.3.1.2: each pair of pixels is Y1 Y2 Cb Cr; the output repeats the pair's
    // chroma for both: Y1 Cb Cr Y2 Cb Cr.
    const std::uint8_t* in = src + index * frame_bytes;
    static constexpr unsigned order[6] = {0, 2, 3, 1, 2, 3};
    for (std::uint64_t pair = 0; pair < pixels / 2; ++pair) {
        const std::uint8_t* group = in + pair * 4 * bytes;
        std::uint8_t* dst = out + pair * 6 * bytes;
        for (unsigned k = 0; k < 6; ++k) copy_samples(group + order[k] * bytes, 1, bytes, big_endian, dst + k * bytes);
    }
}

}  // namespace turbodicom::codec::native
