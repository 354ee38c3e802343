#include "parse/encapsulated.hpp"

#include <cstring>
#include <string>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "parse/element_index.hpp"

namespace turbodicom::parse {
namespace {

using core::errc;

struct item_header {
    std::uint64_t tag_offset;
    std::uint64_t data_offset;
    std::uint32_t length;
};

// The item at `pos`: an Item tag (FFFE,E000) and a defined length that fits.
item_header read_item(const std::uint8_t* value, std::size_t size, std::uint64_t pos) {
    if (size - pos < 8) core::raise(errc::truncated, pos, "encapsulated item header cut short");
    const std::uint32_t tag = core::load_tag(value + pos, true);
    const std::uint32_t length = core::load_u32(value + pos + 4, true);
    if (tag != item_tag) core::raise(errc::bad_item, pos, "expected an item tag (FFFE,E000) in encapsulated data");
    if (length == undefined_length || length > size - pos - 8) {
        core::raise(errc::bad_length, pos, "encapsulated item of length " + std::to_string(length) +
                                               " runs past the end of the value");
    }
    return {pos, pos + 8, length};
}

// True when a fragment opens a codestream: JPEG SOI, JPEG 2000 SOC, or a JP2 signature box.
bool starts_codestream(const std::uint8_t* p, std::uint64_t n) {
    if (n >= 2 && p[0] == 0xFF && (p[1] == 0xD8 || p[1] == 0x4F)) return true;
    static const std::uint8_t jp2[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    return n >= 8 && std::memcmp(p, jp2, 8) == 0;
}

// True when a fragment ends a JPEG or JPEG 2000 codestream (EOI / EOC, ignoring trailing padding).
bool ends_codestream(const std::uint8_t* p, std::uint64_t n) {
    const std::uint64_t window = n < 10 ? n : 10;
    for (std::uint64_t i = n - window; i + 1 < n; ++i) {
        if (p[i] == 0xFF && p[i + 1] == 0xD9) return true;
    }
    return false;
}

// PS3.5 A.4: each Basic Offset Table entry is the offset of a frame's first
// item tag from the first fragment's. A table that does not fit the fragments
// (a known vendor fault) is ignored rather than trusted.
bool frames_from_table(encapsulated_frames& out, const std::vector<std::uint64_t>& item_offsets) {
    const std::vector<std::uint32_t>& table = out.basic_offsets;
    const std::size_t n_fragments = out.fragments.size();
    std::size_t f = 0;
    std::vector<std::vector<byte_span>> frames;
    for (std::size_t t = 0; t < table.size(); ++t) {
        const std::uint64_t start = table[t];
        const std::uint64_t end = t + 1 < table.size() ? table[t + 1] : UINT64_MAX;
        if (end <= start || f >= n_fragments || item_offsets[f] != start) return false;
        std::vector<byte_span> frame;
        while (f < n_fragments && item_offsets[f] < end) frame.push_back(out.fragments[f++]);
        frames.push_back(std::move(frame));
    }
    out.frames = std::move(frames);
    return true;
}

}  // namespace

encapsulated_frames index_encapsulated(const std::uint8_t* value, std::size_t size, std::uint32_t number_of_frames,
                                       const std::uint64_t* extended_offsets, const std::uint64_t* extended_lengths,
                                       std::size_t extended_count, frame_rule* rule) {
    encapsulated_frames out;
    frame_rule used = frame_rule::single;
    // The first item is the Basic Offset Table.
    const item_header table = read_item(value, size, 0);
    if (table.length % 4 != 0) core::raise(errc::bad_length, 0, "Basic Offset Table length is not a multiple of 4");
    for (std::uint32_t i = 0; i < table.length; i += 4) {
        out.basic_offsets.push_back(core::load_u32(value + table.data_offset + i, true));
    }
    const std::uint64_t first_fragment = table.data_offset + table.length;
    std::vector<std::uint64_t> item_offsets;  // relative to the first fragment's item tag
    for (std::uint64_t pos = first_fragment; pos < size;) {
        // A trailing sequence delimiter or padding shorter than an item ends the list.
        if (size - pos >= 4 && core::load_tag(value + pos, true) == sequence_delimitation_tag) break;
        const item_header h = read_item(value, size, pos);
        out.fragments.push_back({h.data_offset, h.length});
        item_offsets.push_back(pos - first_fragment);
        pos = h.data_offset + h.length;
    }

    const std::size_t n_fragments = out.fragments.size();
    if (extended_count > 0 && extended_offsets && extended_lengths) {
        // PS3.3 C.7.6.3.1.8: offsets of each frame's item tag from the first fragment's.
        used = frame_rule::extended_table;
        const std::uint64_t region = size - first_fragment;
        for (std::size_t i = 0; i < extended_count; ++i) {
            const std::uint64_t off = extended_offsets[i];
            const std::uint64_t len = extended_lengths[i];
            if (off > region || region - off < 8 || len > region - off - 8) {
                core::raise(errc::bad_length, first_fragment, "Extended Offset Table entry " + std::to_string(i) +
                                                                  " points outside the fragments");
            }
            const item_header h = read_item(value, size, first_fragment + off);
            if (len > h.length) core::raise(errc::bad_length, h.tag_offset, "frame longer than its fragment");
            out.frames.push_back({{h.data_offset, len}});
        }
    } else if (!out.basic_offsets.empty() && frames_from_table(out, item_offsets)) {
        used = frame_rule::offset_table;
    } else if (n_fragments == 0) {
        used = frame_rule::single;
    } else if (number_of_frames <= 1 || n_fragments == 1) {
        used = frame_rule::single;
        out.frames.push_back(out.fragments);
    } else if (n_fragments == number_of_frames) {
        used = frame_rule::one_per_fragment;
        for (const byte_span& s : out.fragments) out.frames.push_back({s});
    } else if (starts_codestream(value + out.fragments[0].offset, out.fragments[0].length)) {
        // Several fragments per frame: a new frame starts where a codestream starts.
        used = frame_rule::start_markers;
        for (const byte_span& s : out.fragments) {
            if (out.frames.empty() || starts_codestream(value + s.offset, s.length)) out.frames.emplace_back();
            out.frames.back().push_back(s);
        }
    } else {
        // No recognisable start: close a frame at each end-of-image marker.
        used = frame_rule::end_markers;
        std::vector<byte_span> frame;
        for (const byte_span& s : out.fragments) {
            frame.push_back(s);
            if (ends_codestream(value + s.offset, s.length)) {
                out.frames.push_back(std::move(frame));
                frame.clear();
            }
        }
        if (!frame.empty()) out.frames.push_back(std::move(frame));
    }
    if (rule) *rule = used;
    return out;
}

}  // namespace turbodicom::parse
