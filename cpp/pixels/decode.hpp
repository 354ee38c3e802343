// Decoding the frames of a Pixel Data value: picks the codec for the transfer syntax,
// joins a frame's fragments when it has several, decodes frames in parallel on the pool,
// and applies the per-sample steps pydicom applies after decoding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/common/frame.hpp"
#include "parse/encapsulated.hpp"

namespace turbodicom::pixels {

enum class codec_id { rle, jpeg };

// The codec for an encapsulated transfer syntax UID; false when there is none.
bool codec_for(const std::string& transfer_syntax_uid, codec_id& codec);

// Bytes of one decoded frame: rows x columns x samples x bits_allocated/8.
std::uint64_t decoded_frame_bytes(const codec::frame_desc& desc);

// A codec error in a known frame.
class frame_error : public std::runtime_error {
public:
    frame_error(std::size_t frame, const codec::codec_error& cause);
    std::size_t frame() const noexcept { return frame_; }
    codec::codec_errc code() const noexcept { return code_; }
    std::uint64_t offset() const noexcept { return offset_; }

private:
    std::size_t frame_;
    codec::codec_errc code_;
    std::uint64_t offset_;
};

// Decodes one encoded frame into `out` (decoded_frame_bytes(desc) bytes): colour-by-pixel,
// samples of bits_allocated/8 bytes, little-endian, as coded (no colour transform, no
// unused-bit correction). Throws codec::codec_error.
void decode_frame(codec_id codec, const std::uint8_t* data, std::size_t size, const codec::frame_desc& desc,
                  std::uint8_t* out, std::size_t out_size);

struct decode_options {
    unsigned workers = 0;             // 0: one per core
    bool correct_unused_bits = false; // pydicom's shift correction when bits_stored < bits_allocated
};

// Decodes the frames `frames` (indexes into `spans`, each a frame's fragments within `value`)
// into consecutive slots of `out`, in parallel. Throws frame_error for the lowest failing frame.
void decode_frames(codec_id codec, const std::uint8_t* value, std::size_t value_size,
                   const std::vector<std::vector<parse::byte_span>>& spans, const std::vector<std::size_t>& frames,
                   const codec::frame_desc& desc, std::uint8_t* out, std::size_t out_size,
                   const decode_options& options);

struct native_options {
    bool big_endian = false;           // Explicit VR Big Endian
    bool ow_swapped = false;           // 8-bit big endian data encoded as OW (pairwise swapped)
    bool ybr_full_422 = false;         // Photometric Interpretation YBR_FULL_422: expand to YBR_FULL
    bool correct_unused_bits = false;  // pydicom's shift correction when bits_stored < bits_allocated
};

// Bytes of one frame as native decoding writes it (one byte per pixel for 1-bit data).
std::uint64_t native_frame_bytes(const codec::frame_desc& desc);

// Copies the frames `frames` of native Pixel Data `value` into consecutive slots of `out`,
// in pydicom's array layout (see codec/native/native.hpp). Throws frame_error.
void decode_native_frames(const std::uint8_t* value, std::size_t value_size, const std::vector<std::size_t>& frames,
                          const codec::frame_desc& desc, const native_options& options, std::uint8_t* out,
                          std::size_t out_size);

}  // namespace turbodicom::pixels
