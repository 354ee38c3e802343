// The parser's product: a flat index of elements over a buffer the caller owns.
// Every element records where its value lies, which item it belongs to, and how
// it was encoded; nothing is converted. Python turns the index into pydicom
// objects, and `scan` and pixel decoding read straight from it.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace turbodicom::parse {

constexpr std::uint32_t undefined_length = 0xFFFFFFFFu;
constexpr std::uint32_t item_tag = 0xFFFEE000u;
constexpr std::uint32_t item_delimitation_tag = 0xFFFEE00Du;
constexpr std::uint32_t sequence_delimitation_tag = 0xFFFEE0DDu;

// Packs a two-character VR ("SQ") into 16 bits; 0 means "no VR" (implicit VR).
constexpr std::uint16_t vr_code(char a, char b) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(a) << 8) | static_cast<unsigned char>(b));
}

enum class value_kind : std::uint8_t {
    bytes,     // value bytes at [value_offset, value_offset + value_size)
    none,      // no value (empty numeric or implicit-VR element: pydicom's None)
    deferred,  // larger than defer_size: not read (pydicom's None with the real length)
    sequence,  // an undefined-length sequence parsed into items
};

struct element {
    std::uint32_t tag = 0;
    std::uint16_t vr = 0;              // packed VR as read (valid when has_vr)
    bool has_vr = false;               // false: implicit VR, pydicom's None
    const char* dictionary_vr = nullptr;  // set when the VR came from the dictionary ("OB or OW")
    bool implicit = false;             // how this element was encoded
    bool little = true;
    value_kind kind = value_kind::bytes;
    std::uint32_t length = 0;          // the length field as written
    std::uint64_t value_tell = 0;      // stream offset of the value (pydicom's value_tell)
    std::uint64_t value_offset = 0;    // where the value bytes are in the buffer
    std::uint64_t value_size = 0;      // how many bytes are there (may be < length at end of input)
    std::int32_t parent = -1;          // index into items, -1 for the top-level dataset
    std::int32_t charset = -1;         // sequences: the Specific Character Set element in effect, or -1
};

struct item {
    std::int32_t sequence = -1;        // index of the sequence element it belongs to
    std::uint64_t item_tell = 0;       // offset of the item tag
    bool undefined_length = false;
    bool implicit = false;             // encoding used for the item's elements
    bool little = true;
};

struct dataset_index {
    std::vector<element> elements;     // in stream order; parents before children
    std::vector<item> items;           // in stream order
    bool implicit = false;             // encoding of the top-level elements after VR detection
    bool stopped = false;              // the top level ended at a stop condition, before the end of the input
    std::vector<std::string> warnings; // what pydicom would warn about, in order
    // Every Specific Character Set value the reader met, in order, including
    // those of datasets later dropped: pydicom decodes each one as it reads it.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> charset_values;  // (offset, size)
};

// Limits for untrusted input.
struct limits {
    std::uint32_t max_depth = 200;            // sequence nesting
    std::uint64_t max_elements = 50'000'000;  // across all items
};

}  // namespace turbodicom::parse
