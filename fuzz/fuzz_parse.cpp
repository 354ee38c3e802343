// libFuzzer target for the Part 10 reader.
//
// Every input must either parse or raise core::error; anything else (a crash,
// a sanitizer report, another exception, a hang or a large allocation) is a
// bug. The index the parser returns is checked too: the bindings turn it into
// Python objects without further checks, so every value span must lie inside
// the input and every parent, item and character-set reference must point at
// an entry that exists.
//
// Build:  CXX=clang++ cmake -S . -B build/fuzz -DTURBODICOM_FUZZ=ON -DTURBODICOM_BUILD_MODULE=OFF
//         cmake --build build/fuzz --target fuzz_parse
// Run:    build/fuzz/fuzz_parse -max_total_time=60 -rss_limit_mb=2048 -timeout=2 <corpus dir>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "parse/parser.hpp"

namespace {

using turbodicom::parse::dataset_index;
using turbodicom::parse::element;
using turbodicom::parse::file_index;
using turbodicom::parse::read_options;
using turbodicom::parse::value_kind;

[[noreturn]] void fail(const char* what, std::size_t i) {
    std::fprintf(stderr, "fuzz_parse: broken index: %s (entry %zu)\n", what, i);
    std::abort();
}

void check_index(const dataset_index& index, std::size_t size) {
    const std::size_t elements = index.elements.size();
    const std::size_t items = index.items.size();
    for (std::size_t i = 0; i < elements; ++i) {
        const element& e = index.elements[i];
        if (e.parent < -1 || (e.parent >= 0 && static_cast<std::size_t>(e.parent) >= items)) {
            fail("element parent out of range", i);
        }
        if (e.kind == value_kind::bytes) {
            if (e.value_offset > size || e.value_size > size - e.value_offset) fail("value span outside input", i);
        }
        if (e.kind == value_kind::sequence) {
            if (e.charset < -1 || (e.charset >= 0 && static_cast<std::size_t>(e.charset) >= elements)) {
                fail("sequence charset out of range", i);
            }
            if (e.charset >= 0) {
                const element& c = index.elements[static_cast<std::size_t>(e.charset)];
                if (c.kind == value_kind::bytes && (c.value_offset > size || c.value_size > size - c.value_offset)) {
                    fail("charset span outside input", i);
                }
            }
        }
    }
    for (std::size_t i = 0; i < items; ++i) {
        const std::int32_t s = index.items[i].sequence;
        if (s < -1 || (s >= 0 && static_cast<std::size_t>(s) >= elements)) fail("item sequence out of range", i);
    }
}

void check_file(const file_index& f, std::size_t size) {
    check_index(f.meta, size);
    check_index(f.command, size);
    check_index(f.dataset, size);
    if (f.deflated && f.dataset_offset > size) fail("deflated dataset offset past the end", 0);
}

void try_file(const std::uint8_t* data, std::size_t size, const read_options& options) {
    try {
        check_file(turbodicom::parse::read_file(data, size, options), size);
    } catch (const turbodicom::core::error&) {
    }
}

void try_dataset(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                  const read_options& options) {
    try {
        std::uint64_t end = 0;
        check_index(turbodicom::parse::read_dataset(data, size, implicit, little, options, &end), size);
    } catch (const turbodicom::core::error&) {
    }
}

void try_sequence_value(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                         const read_options& options) {
    try {
        check_index(turbodicom::parse::read_sequence_value(data, size, implicit, little, 0, options), size);
    } catch (const turbodicom::core::error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    read_options options;

    options.force = false;
    try_file(data, size, options);

    options.force = true;
    try_file(data, size, options);

    options.stop_before_pixels = true;
    try_file(data, size, options);

    // What a deflated dataset and a lazily converted sequence go through.
    options.stop_before_pixels = false;
    try_dataset(data, size, false, true, options);
    try_dataset(data, size, true, true, options);
    try_dataset(data, size, false, false, options);
    try_sequence_value(data, size, true, true, options);
    try_sequence_value(data, size, false, true, options);

    // Deferred values, a tag filter and pydicom's other reading switches.
    options.defer_size = 16;
    options.has_specific_tags = true;
    options.specific_tags = {0x00080016u, 0x00100010u, 0x00280010u, 0x7FE00010u};
    options.assume_implicit_vr_switch = false;
    options.infer_sq_for_un_vr = false;
    options.replace_un_with_known_vr = false;
    options.none_for_empty_text = true;
    try_file(data, size, options);
    return 0;
}
