// Bulk reading of chosen attributes from many files, on a thread pool.
//
// Each file is parsed only up to the last requested top-level tag, skipping
// every element not asked for, and the requested values are copied out raw
// (VR, endianness, bytes): conversion to Python values happens afterwards.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace turbodicom::scan {

// One step of a path into a dataset: a tag, and for all but the last step the
// index of the item to descend into ("ReferencedImageSequence[0].ReferencedSOPInstanceUID").
struct path_step {
    std::uint32_t tag;
    std::int32_t item;  // -1 on the last step
};
using tag_path = std::vector<path_step>;

struct found_value {
    bool found = false;
    std::string vr;              // "US", "OB or OW", ... ; empty when unknown (private, implicit VR)
    bool little = true;
    bool implicit = false;
    std::uint32_t length = 0;    // as written
    bool sequence = false;       // a sequence: item_count items
    std::uint32_t item_count = 0;
    bool has_value = false;      // false: pydicom's empty value (None)
    std::string bytes;
    // The Specific Character Set of the dataset (or item) holding the value, as stored.
    bool has_charset = false;
    std::string charset;
    // A private element of unknown VR: its creator's value, for pydicom's private dictionary.
    bool has_private_creator = false;
    std::string private_creator;
};

// A value decoded into plain values, following pydicom's converters (scan/values.hpp).
struct cell {
    enum class kind : std::uint8_t {
        none,      // absent, or pydicom's None for an empty value
        integer,   // i
        real,      // d
        text,      // Latin-1 bytes (one char per byte) at [offset, offset + size) of the pool
        bytes,     // bytes at [offset, offset + size) of the pool
        list,      // items
        python,    // needs pydicom: convert from the raw value
    };
    kind k = kind::none;
    std::int64_t i = 0;
    bool is_unsigned = false;  // i holds a uint64 (UV values above INT64_MAX)
    double d = 0;
    std::uint32_t offset = 0;  // text and bytes: where they are in file_result::pool
    std::uint32_t size = 0;
    std::vector<cell> items;
};

struct file_result {
    std::string error;           // empty when the file was read
    bool needs_python = false;   // deflated: to be read through Python's zlib
    std::vector<found_value> values;  // one per path
    bool has_charset = false;
    std::string charset;         // the top-level (0008,0005) value
    int pixel_representation = -1;    // (0028,0103), for VRs "US or SS"
    std::vector<cell> cells;          // decoded values, with scan_options::decode
    std::string pool;                 // the text and bytes of the cells, in one allocation
};

struct scan_options {
    unsigned workers = 0;  // 0: one per core
    bool force = false;    // read files without the preamble and 'DICM'
    bool decode = false;   // also decode the values (file_result::cells)
    // Specific Character Set values (as stored) under which 7-bit text is ASCII.
    std::unordered_set<std::string> ascii_charsets;
};

// Reads `files`; results are in the same order. `done` counts finished files.
std::vector<file_result> scan_files(const std::vector<std::string>& files, const std::vector<tag_path>& paths,
                                    const scan_options& options, std::atomic<std::size_t>* done = nullptr);

// Reads one file held in memory.
file_result scan_buffer(const std::uint8_t* data, std::size_t size, const std::vector<tag_path>& paths,
                        const scan_options& options);

// Regular files under `root` (itself, if it is a file), sorted. Symbolic links
// to files are listed; links to directories are not followed, so loops end.
// Directories that cannot be read are reported in `errors` as "path: reason".
std::vector<std::string> list_files(const std::string& root, bool recursive, std::vector<std::string>& errors);

}  // namespace turbodicom::scan
