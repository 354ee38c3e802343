#include "pixels/decode.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <limits>
#include <mutex>

#include "codec/jpeg/decoder.hpp"
#include "codec/native/native.hpp"
#include "codec/rle/rle.hpp"
#include "core/thread_pool.hpp"

namespace turbodicom::pixels {

using codec::codec_errc;
using codec::fail;

bool codec_for(const std::string& uid, codec_id& codec) {
    if (uid == "1.2.840.10008.1.2.5") {
        codec = codec_id::rle;
        return true;
    }
    if (uid == "1.2.840.10008.1.2.4.50" || uid == "1.2.840.10008.1.2.4.51" || uid == "1.2.840.10008.1.2.4.55" ||
        uid == "1.2.840.10008.1.2.4.57" || uid == "1.2.840.10008.1.2.4.70") {
        codec = codec_id::jpeg;
        return true;
    }
    return false;
}

std::uint64_t decoded_frame_bytes(const codec::frame_desc& desc) {
    return desc.samples() * (desc.bits_allocated / 8u);
}

frame_error::frame_error(std::size_t frame, const codec::codec_error& cause)
    : std::runtime_error("frame " + std::to_string(frame) + ": " + cause.what()),
      frame_(frame), code_(cause.code()), offset_(cause.offset()) {}

namespace {

void check_desc(const codec::frame_desc& desc) {
    if (desc.rows == 0 || desc.columns == 0) fail(codec_errc::bad_argument, 0, "Rows and Columns must not be 0");
    if (desc.samples_per_pixel == 0) fail(codec_errc::bad_argument, 0, "Samples per Pixel must not be 0");
    const unsigned ba = desc.bits_allocated;
    if (ba != 8 && ba != 16 && ba != 32 && ba != 64)
        fail(codec_errc::unsupported, 0, "Bits Allocated " + std::to_string(ba) + " in compressed pixel data");
    if (desc.bits_stored == 0 || desc.bits_stored > ba)
        fail(codec_errc::bad_argument, 0, "Bits Stored " + std::to_string(desc.bits_stored) + " with Bits Allocated " +
                                              std::to_string(ba));
    if (decoded_frame_bytes(desc) > codec::max_frame_bytes) fail(codec_errc::too_large, 0, "frame too large");
}

void decode_checked(codec_id codec, const std::uint8_t* data, std::size_t size, const codec::frame_desc& desc,
                    std::uint8_t* out, std::size_t out_size) {
    switch (codec) {
        case codec_id::rle:
            codec::rle::decode(data, size, desc, out, out_size);
            return;
        case codec_id::jpeg: {
            const unsigned sample_bytes = desc.bits_allocated / 8u;
            if (sample_bytes > 2)
                fail(codec_errc::unsupported, 0, "JPEG with Bits Allocated " + std::to_string(desc.bits_allocated));
            const codec::jpeg::stream_info info = codec::jpeg::read_info(data, size);
            if (info.width != desc.columns || info.height != desc.rows ||
                info.components.size() != desc.samples_per_pixel) {
                fail(codec_errc::bad_header, 0,
                     "the codestream is " + std::to_string(info.width) + "x" + std::to_string(info.height) + "x" +
                         std::to_string(info.components.size()) + ", the dataset says " +
                         std::to_string(desc.columns) + "x" + std::to_string(desc.rows) + "x" +
                         std::to_string(desc.samples_per_pixel));
            }
            if (info.precision > 8 && sample_bytes < 2)
                fail(codec_errc::bad_header, 0, "a " + std::to_string(info.precision) +
                                                    "-bit codestream with Bits Allocated 8");
            codec::jpeg::decode(data, size, out, out_size, sample_bytes);
            return;
        }
    }
}

}  // namespace

void decode_frame(codec_id codec, const std::uint8_t* data, std::size_t size, const codec::frame_desc& desc,
                  std::uint8_t* out, std::size_t out_size) {
    check_desc(desc);
    if (out_size != decoded_frame_bytes(desc)) fail(codec_errc::bad_argument, 0, "output buffer size");
    decode_checked(codec, data, size, desc, out, out_size);
}

void decode_frames(codec_id codec, const std::uint8_t* value, std::size_t value_size,
                   const std::vector<std::vector<parse::byte_span>>& spans, const std::vector<std::size_t>& frames,
                   const codec::frame_desc& desc, std::uint8_t* out, std::size_t out_size,
                   const decode_options& options) {
    check_desc(desc);
    const std::uint64_t frame_bytes = decoded_frame_bytes(desc);
    if (out_size / frame_bytes < frames.size() || out_size != frame_bytes * frames.size())
        fail(codec_errc::bad_argument, 0, "output buffer size");
    for (std::size_t f : frames) {
        if (f >= spans.size()) fail(codec_errc::bad_argument, 0, "frame " + std::to_string(f) + " does not exist");
        for (const parse::byte_span& s : spans[f]) {
            if (s.offset > value_size || s.length > value_size - s.offset)
                fail(codec_errc::bad_argument, 0, "a fragment lies outside the Pixel Data value");
        }
    }

    std::mutex mutex;
    std::size_t failed_slot = std::numeric_limits<std::size_t>::max();
    std::unique_ptr<frame_error> failure;
    std::atomic<bool> stop{false};
    const unsigned workers = std::min<std::size_t>(core::worker_count(options.workers), frames.size());

    core::parallel_for(frames.size(), workers, [&](std::size_t slot) {
        if (stop.load(std::memory_order_relaxed)) return;
        const std::size_t f = frames[slot];
        std::uint8_t* frame_out = out + slot * frame_bytes;
        try {
            const std::vector<parse::byte_span>& parts = spans[f];
            if (parts.size() == 1) {
                decode_checked(codec, value + parts[0].offset, parts[0].length, desc, frame_out, frame_bytes);
            } else {
                // Fragments of one frame are contiguous items separated by item headers: join them.
                std::vector<std::uint8_t> joined;
                std::uint64_t total = 0;
                for (const parse::byte_span& s : parts) total += s.length;
                joined.reserve(total);
                for (const parse::byte_span& s : parts) joined.insert(joined.end(), value + s.offset, value + s.offset + s.length);
                decode_checked(codec, joined.data(), joined.size(), desc, frame_out, frame_bytes);
            }
            if (options.correct_unused_bits && desc.bits_stored < desc.bits_allocated) {
                codec::native::correct_unused_bits(frame_out, desc.samples(), desc.bits_allocated, desc.bits_stored,
                                                   desc.is_signed);
            }
        } catch (const codec::codec_error& e) {
            std::lock_guard<std::mutex> lock(mutex);
            if (slot < failed_slot) {
                failed_slot = slot;
                failure = std::make_unique<frame_error>(f, e);
            }
            stop.store(true, std::memory_order_relaxed);
        } catch (const std::bad_alloc&) {
            std::lock_guard<std::mutex> lock(mutex);
            if (slot < failed_slot) {
                failed_slot = slot;
                failure = std::make_unique<frame_error>(
                    f, codec::codec_error(codec_errc::too_large, 0, "out of memory while decoding"));
            }
            stop.store(true, std::memory_order_relaxed);
        }
    });
    if (failure) throw *failure;
}

std::uint64_t native_frame_bytes(const codec::frame_desc& desc) {
    return desc.samples() * (desc.bits_allocated == 1 ? 1u : desc.bits_allocated / 8u);
}

void decode_native_frames(const std::uint8_t* value, std::size_t value_size, const std::vector<std::size_t>& frames,
                          const codec::frame_desc& desc, const native_options& options, std::uint8_t* out,
                          std::size_t out_size) {
    const std::uint64_t frame_bytes = native_frame_bytes(desc);
    if (frame_bytes == 0 || frame_bytes > codec::max_frame_bytes) fail(codec_errc::bad_argument, 0, "frame size");
    if (out_size / frame_bytes < frames.size() || out_size != frame_bytes * frames.size())
        fail(codec_errc::bad_argument, 0, "output buffer size");
    for (std::size_t slot = 0; slot < frames.size(); ++slot) {
        std::uint8_t* frame_out = out + slot * frame_bytes;
        try {
            if (options.ybr_full_422) {
                codec::native::ybr_full_422_to_full(value, value_size, frames[slot], desc, options.big_endian,
                                                    frame_out, frame_bytes);
            } else {
                codec::native::decode_frame(value, value_size, frames[slot], desc, options.big_endian,
                                            options.ow_swapped, frame_out, frame_bytes);
            }
            if (options.correct_unused_bits && desc.bits_allocated > 1 && desc.bits_stored < desc.bits_allocated) {
                codec::native::correct_unused_bits(frame_out, desc.samples(), desc.bits_allocated, desc.bits_stored,
                                                   desc.is_signed);
            }
        } catch (const codec::codec_error& e) {
            throw frame_error(frames[slot], e);
        }
    }
}

}  // namespace turbodicom::pixels
