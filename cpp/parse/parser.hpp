// Part 10 reader (PS3.10 7.1, PS3.5 7): preamble, File Meta Information, the
// dataset in its transfer syntax, sequences and items.
//
// Its decisions follow pydicom's reader element for element (VR heuristics,
// implicit-VR switches inside sequences, undefined-length values, what happens at
// the end of the input), so that a dataset built from the index equals the one
// pydicom builds. Every length is checked against what remains: a value that
// runs past the end is cut there (as pydicom does), and a structure that cannot
// be read raises core::error with its offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "parse/element_index.hpp"

namespace turbodicom::parse {

struct private_syntax {
    std::string uid;
    bool implicit;
    bool little;
};

struct read_options {
    bool stop_before_pixels = false;
    std::uint32_t stop_after_tag = 0xFFFFFFFFu;  // top level: stop before the first element with a larger tag
    std::int64_t defer_size = -1;              // -1: read every value
    bool has_specific_tags = false;
    std::vector<std::uint32_t> specific_tags;  // used when has_specific_tags
    bool force = false;
    // pydicom's configuration switches that change how bytes are read.
    bool assume_implicit_vr_switch = true;
    bool infer_sq_for_un_vr = true;
    bool replace_un_with_known_vr = true;
    bool raise_on_vr_mismatch = false;         // reading_validation_mode == RAISE
    bool none_for_empty_text = false;          // use_none_as_empty_text_VR_value
    std::vector<private_syntax> private_syntaxes;
    limits lim;
};

struct file_index {
    bool has_preamble = false;       // 128-byte preamble and 'DICM' present
    dataset_index meta;              // group 0002 (explicit VR LE, or implicit if that is what is there)
    bool meta_implicit = false;      // the encoding pydicom records for the meta group
    dataset_index command;           // group 0000 elements before the dataset (rare)
    bool has_transfer_syntax = false;
    std::string transfer_syntax;     // as stored, trailing NULs and spaces removed
    bool implicit = true;            // the dataset's encoding, decided as pydicom decides it
    bool little = true;
    bool deflated = false;           // the dataset is deflated: inflate [dataset_offset, end) and call read_dataset
    std::uint64_t dataset_offset = 0;
    dataset_index dataset;
    std::uint64_t end_offset = 0;    // where reading stopped
};

// Reads a whole Part 10 stream held in [data, data + size).
file_index read_file(const std::uint8_t* data, std::size_t size, const read_options& options);

// Reads a bare dataset (for example an inflated one) with the given encoding,
// as the top level of a file.
dataset_index read_dataset(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                           const read_options& options, std::uint64_t* end_offset = nullptr,
                           std::uint64_t start = 0);

// Reads the items of a defined-length sequence value (for lazy conversion):
// the elements of the returned index all have parent >= 0.
dataset_index read_sequence_value(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                                  std::uint64_t value_tell, const read_options& options);

}  // namespace turbodicom::parse
