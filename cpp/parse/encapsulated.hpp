// Encapsulated Pixel Data (PS3.5 A.4): the items of the value, the Basic and
// Extended Offset Tables, and which fragments make up each frame.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace turbodicom::parse {

struct byte_span {
    std::uint64_t offset;  // within the Pixel Data value
    std::uint64_t length;
};

struct encapsulated_frames {
    std::vector<std::uint32_t> basic_offsets;   // the Basic Offset Table, often empty
    std::vector<byte_span> fragments;           // data of each fragment item after the table
    std::vector<std::vector<byte_span>> frames; // each frame's fragment data, in order
};

// How frame boundaries were found when there is no offset table.
enum class frame_rule { offset_table, extended_table, single, one_per_fragment, start_markers, end_markers };

// Indexes the value of an encapsulated Pixel Data element (without its
// sequence delimiter). `number_of_frames` is (0028,0008) or 1; the extended
// table (7FE0,0001)/(7FE0,0002) is used when given (counts must agree).
// Frames are found, in order of preference, from the Extended Offset Table,
// the Basic Offset Table, the fragment count (one frame, or one fragment per
// frame), then from JPEG / JPEG-LS / JPEG 2000 start-of-codestream markers at
// the start of fragments. Throws core::error for items that run past the end,
// tags that are not items, or tables that point outside the fragments.
encapsulated_frames index_encapsulated(const std::uint8_t* value, std::size_t size, std::uint32_t number_of_frames,
                                       const std::uint64_t* extended_offsets = nullptr,
                                       const std::uint64_t* extended_lengths = nullptr,
                                       std::size_t extended_count = 0, frame_rule* rule = nullptr);

}  // namespace turbodicom::parse
