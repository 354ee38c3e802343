#include "parse/parser.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "core/bytes.hpp"
#include "core/dictionary.hpp"
#include "core/error.hpp"
#include "parse/vr.hpp"

namespace turbodicom::parse {
namespace {

using core::errc;
using core::load_tag;
using core::load_u16;
using core::load_u32;

constexpr std::uint32_t specific_character_set = 0x00080005u;

bool is_upper(std::uint8_t c) { return c > 0x40 && c < 0x5B; }

enum class stop_rule { none, not_meta_group, not_command_group, pixel_data };

bool should_stop(stop_rule rule, std::uint32_t tag) {
    switch (rule) {
        case stop_rule::none: return false;
        case stop_rule::not_meta_group: return (tag >> 16) != 0x0002;
        case stop_rule::not_command_group: return (tag >> 16) != 0x0000;
        case stop_rule::pixel_data: return tag == 0x7FE00010u || tag == 0x7FE00009u || tag == 0x7FE00008u;
    }
    return false;
}

// A delimiter was not found before the end of the input: the dataset being
// read ends there with a warning (pydicom's EOFError).
struct end_of_input {
    std::string message;
};

// A dataset's Specific Character Set has a VR pydicom cannot convert: the
// dataset is abandoned, and so is the one holding its sequence (pydicom's
// NotImplementedError, raised after the dataset is read and caught by the
// dataset around it).
struct unknown_charset_vr {
    std::uint64_t offset;
};

std::string hex_tag(std::uint32_t tag) {
    static const char digits[] = "0123456789ABCDEF";
    std::string s = "(XXXX,XXXX)";
    for (int i = 0; i < 4; ++i) s[1 + i] = digits[(tag >> (28 - 4 * i)) & 0xF];
    for (int i = 0; i < 4; ++i) s[6 + i] = digits[(tag >> (12 - 4 * i)) & 0xF];
    return s;
}

std::string hex_offset(std::uint64_t value) {
    static const char digits[] = "0123456789ABCDEF";
    std::string s;
    do {
        s.insert(s.begin(), digits[value & 0xF]);
        value >>= 4;
    } while (value);
    return s;
}

struct generator_state {
    std::int32_t parent;
    bool top_level;
    bool implicit;
    bool little;
    stop_rule stop;
    bool use_specific_tags;
    bool use_defer;
    std::uint32_t depth;
    std::int32_t charset = -1;
};

// Reads like a file object over [data, data + size): reads past the end return
// fewer bytes, seeks past the end are allowed, and offsets stay exact.
class reader {
public:
    reader(const std::uint8_t* data, std::uint64_t size, const read_options& options, dataset_index& out)
        : data_(data), size_(size), options_(options), out_(out) {}

    std::uint64_t pos = 0;

    // Returns the number of bytes available (at most n) and advances past them.
    std::uint64_t take(std::uint64_t n, const std::uint8_t*& p) {
        if (pos >= size_) {
            p = data_ + size_;
            return 0;
        }
        std::uint64_t got = std::min(n, size_ - pos);
        p = data_ + pos;
        pos += got;
        return got;
    }

    // pydicom's read_dataset; returns whether the elements were read as implicit VR.
    bool read_dataset(std::int32_t parent, bool implicit_assumed, bool little, std::int64_t bytelength,
                      stop_rule stop, bool top_level, bool use_specific_tags, bool use_defer, std::uint32_t depth) {
        const std::uint64_t start = pos;
        const bool implicit = detect_implicit(implicit_assumed, little, stop, !top_level);
        pos = start;
        generator_state g{parent, top_level && stop != stop_rule::not_meta_group && stop != stop_rule::not_command_group,
                          implicit, little, stop, use_specific_tags, use_defer, depth};
        const std::size_t first_element = out_.elements.size();
        const std::size_t first_item = out_.items.size();
        try {
            if (bytelength < 0) {
                while (next_element(g)) {
                }
            } else {
                while (pos - start < static_cast<std::uint64_t>(bytelength)) {
                    if (!next_element(g)) break;
                }
            }
        } catch (const end_of_input& e) {
            if (options_.raise_on_vr_mismatch) core::raise(errc::truncated, pos, e.message);
            abandon(bytelength, first_element, first_item);
            out_.warnings.push_back("\x01" + e.message);
        } catch (const unknown_charset_vr&) {
            abandon(bytelength, first_element, first_item);
        }
        check_charset_vr(parent, first_element);
        return implicit;
    }

    // pydicom's read_sequence; the sequence element is `sequence`.
    void read_sequence(std::int32_t sequence, bool implicit, bool little, std::uint32_t bytelength,
                       std::uint32_t depth) {
        if (depth > options_.lim.max_depth) {
            core::raise(errc::depth_exceeded, pos,
                        "sequences nested more than " + std::to_string(options_.lim.max_depth) + " deep");
        }
        if (bytelength == 0) return;
        const bool undefined = bytelength == undefined_length;
        const std::uint64_t start = pos;
        while (undefined || pos - start < bytelength) {
            if (!read_item(sequence, implicit, little, depth)) break;
        }
    }

private:
    const std::uint8_t* data_;
    std::uint64_t size_;
    const read_options& options_;
    dataset_index& out_;

    // What an error leaves of a dataset: pydicom builds a dataset of undefined
    // length in one expression that the error abandons (nothing is kept), one
    // of defined length element by element (what was read is kept).
    void abandon(std::int64_t bytelength, std::size_t first_element, std::size_t first_item) {
        if (bytelength < 0) {
            out_.elements.resize(first_element);
            out_.items.resize(first_item);
        }
    }

    void check_charset_vr(std::int32_t parent, std::size_t first_element) {
        const element* charset = nullptr;
        for (std::size_t i = first_element; i < out_.elements.size(); ++i) {
            const element& e = out_.elements[i];
            if (e.parent == parent && e.tag == specific_character_set) charset = &e;
        }
        if (charset && charset->has_vr && !charset->dictionary_vr && !is_known_vr(charset->vr)) {
            throw unknown_charset_vr{charset->value_tell};
        }
    }

    void push(const element& e) {
        if (out_.elements.size() >= options_.lim.max_elements) {
            core::raise(errc::too_many_elements, e.value_tell, "more than " +
                        std::to_string(options_.lim.max_elements) + " elements");
        }
        out_.elements.push_back(e);
    }

    bool wanted(std::uint32_t tag) const {
        return tag == specific_character_set ||
               std::binary_search(options_.specific_tags.begin(), options_.specific_tags.end(), tag);
    }

    // pydicom's _is_implicit_vr: look at the first element's VR bytes.
    bool detect_implicit(bool implicit_assumed, bool little, stop_rule stop, bool is_sequence) {
        if (is_sequence && implicit_assumed) return true;
        const std::uint8_t* tag_bytes;
        const std::uint64_t tag_got = take(4, tag_bytes);
        const std::uint8_t* vr;
        if (take(2, vr) < 2 || tag_got < 4) return implicit_assumed;
        const bool found_implicit = !(is_upper(vr[0]) && is_upper(vr[1]));
        if (found_implicit != implicit_assumed) {
            if (stop != stop_rule::none && should_stop(stop, load_tag(tag_bytes, little))) return found_implicit;
            if (found_implicit && is_sequence) return true;
            const char* found = found_implicit ? "implicit" : "explicit";
            const char* expected = found_implicit ? "explicit" : "implicit";
            std::string msg = std::string("Expected ") + expected + " VR, but found " + found + " VR";
            if (options_.raise_on_vr_mismatch) core::raise(errc::vr_mismatch, pos - 6, msg);
            out_.warnings.push_back(msg + " - using " + found + " VR for reading");
        }
        return found_implicit;
    }

    // pydicom's read_sequence_item; false at the sequence delimiter.
    bool read_item(std::int32_t sequence, bool implicit, bool little, std::uint32_t depth) {
        const std::uint64_t item_tell = pos;
        const std::uint8_t* h;
        if (take(8, h) < 8) {
            core::raise(errc::truncated, item_tell, "No tag to read at file position " + hex_offset(pos));
        }
        const std::uint32_t tag = load_tag(h, little);
        const std::uint32_t length = load_u32(h + 4, little);
        if (tag == sequence_delimitation_tag) return false;
        // Anything else is read as an item, as pydicom does.
        const auto index = static_cast<std::int32_t>(out_.items.size());
        item it;
        it.sequence = sequence;
        it.item_tell = item_tell;
        it.undefined_length = length == undefined_length;
        it.little = little;
        out_.items.push_back(it);
        const bool used_implicit =
            read_dataset(index, implicit, little, it.undefined_length ? -1 : static_cast<std::int64_t>(length),
                         stop_rule::none, false, false, false, depth);
        // The dataset may have been discarded (and the item with it) at end of input.
        if (static_cast<std::size_t>(index) < out_.items.size()) out_.items[index].implicit = used_implicit;
        return true;
    }

    // pydicom's data_element_generator, one yielded element per call.
    bool next_element(generator_state& g) {
        for (;;) {
            const std::uint64_t header_start = pos;
            const std::uint8_t* h;
            if (take(8, h) < 8) return false;
            element e;
            e.parent = g.parent;
            e.implicit = g.implicit;
            e.little = g.little;
            e.tag = load_tag(h, g.little);
            bool long_explicit = false;
            if (g.implicit) {
                e.length = load_u32(h + 4, g.little);
            } else {
                const std::uint16_t vr = vr_code(static_cast<char>(h[4]), static_cast<char>(h[5]));
                const bool in_range = vr >= vr_code('A', 'A') && vr <= vr_code('Z', 'Z');
                if (is_known_vr(vr)) {
                    e.has_vr = true;
                    e.vr = vr;
                    e.length = load_u16(h + 6, g.little);
                    if (has_long_length(vr)) {
                        const std::uint8_t* l;
                        if (take(4, l) < 4) {
                            core::raise(errc::truncated, header_start,
                                        "element " + hex_tag(e.tag) + " header is cut short");
                        }
                        e.length = load_u32(l, g.little);
                        long_explicit = true;
                    }
                } else if (!in_range && options_.assume_implicit_vr_switch) {
                    // Not a VR: this element is implicit VR (a writer switched inside a sequence).
                    e.length = load_u32(h + 4, g.little);
                } else {
                    // An unknown VR: taken with a 2-byte length.
                    e.has_vr = true;
                    e.vr = vr;
                    e.length = load_u16(h + 6, g.little);
                }
            }
            e.value_tell = pos;
            if (e.tag == item_delimitation_tag) return false;
            if ((g.stop != stop_rule::none && should_stop(g.stop, e.tag)) ||
                (g.top_level && e.tag > options_.stop_after_tag)) {
                pos = e.value_tell - (long_explicit ? 12 : 8);
                if (g.top_level) out_.stopped = true;
                return false;
            }
            if (e.length != undefined_length) {
                if (g.use_specific_tags && !wanted(e.tag)) {
                    pos += e.length;
                    continue;
                }
                if (g.use_defer && options_.defer_size >= 0 && e.length > options_.defer_size &&
                    e.tag != specific_character_set) {
                    e.kind = value_kind::deferred;
                    pos += e.length;
                } else if (e.length > 0) {
                    const std::uint8_t* v;
                    e.value_size = take(e.length, v);
                    e.value_offset = static_cast<std::uint64_t>(v - data_);
                    e.kind = value_kind::bytes;
                } else {
                    // pydicom's empty_value_for_VR(vr, raw=True)
                    const bool sq = e.has_vr && e.vr == vr_code('S', 'Q');
                    const bool text = e.has_vr && empty_is_bytes(e.vr) && !options_.none_for_empty_text;
                    e.kind = sq || text ? value_kind::bytes : value_kind::none;
                    e.value_offset = e.value_tell;
                }
                if (e.tag == specific_character_set) {
                    g.charset = static_cast<std::int32_t>(out_.elements.size());
                    out_.charset_values.emplace_back(e.value_offset, e.kind == value_kind::bytes ? e.value_size : 0);
                }
                push(e);
                return true;
            }
            if (undefined_length_element(g, e)) return true;
        }
    }

    // Returns false when the element was read but is not wanted.
    bool undefined_length_element(generator_state& g, element& e) {
        // PS3.5 6.2.2: UN of undefined length is a sequence in implicit VR.
        if (e.has_vr && e.vr == vr_code('U', 'N') && options_.infer_sq_for_un_vr) e.vr = vr_code('S', 'Q');
        bool is_sequence = e.has_vr && e.vr == vr_code('S', 'Q');
        if (!e.has_vr || (e.vr == vr_code('U', 'N') && options_.replace_un_with_known_vr)) {
            if (const core::dict_entry* d = core::dictionary_lookup(e.tag)) {
                e.has_vr = true;
                e.dictionary_vr = d->vr;
                e.vr = vr_code(d->vr[0], d->vr[1]);
                is_sequence = std::strcmp(d->vr, "SQ") == 0;
            } else {
                // Not in the dictionary: a sequence if an item follows.
                const std::uint8_t* t;
                if (take(4, t) < 4) {
                    core::raise(errc::truncated, e.value_tell, "input ends after element " + hex_tag(e.tag));
                }
                pos -= 4;
                if (load_tag(t, g.little) == item_tag) {
                    e.has_vr = true;
                    e.dictionary_vr = nullptr;
                    e.vr = vr_code('S', 'Q');
                    is_sequence = true;
                }
            }
        }
        if (is_sequence) {
            e.kind = value_kind::sequence;
            e.charset = g.charset;
            e.value_offset = e.value_tell;
            const auto index = static_cast<std::int32_t>(out_.elements.size());
            const std::size_t first_item = out_.items.size();
            push(e);
            read_sequence(index, g.implicit, g.little, undefined_length, g.depth + 1);
            if (g.use_specific_tags && !wanted(e.tag)) {
                out_.elements.resize(static_cast<std::size_t>(index));
                out_.items.resize(first_item);
                return false;
            }
            return true;
        }
        read_undefined_value(g, e);
        if (g.use_specific_tags && !wanted(e.tag)) return false;
        push(e);
        return true;
    }

    // pydicom's read_undefined_length_value with the sequence delimiter:
    // first as encapsulated items, then by scanning for the delimiter.
    void read_undefined_value(const generator_state& g, element& e) {
        const std::uint64_t start = pos;
        const std::int64_t defer = g.use_defer ? options_.defer_size : -1;
        if (read_encapsulated(g, e, start, defer)) return;
        std::uint8_t pattern[4];
        const std::uint32_t tag = sequence_delimitation_tag;
        if (g.little) {
            pattern[0] = 0xFE; pattern[1] = 0xFF; pattern[2] = 0xDD; pattern[3] = 0xE0;
        } else {
            pattern[0] = 0xFF; pattern[1] = 0xFE; pattern[2] = 0xE0; pattern[3] = 0xDD;
        }
        const std::uint8_t* begin = data_ + std::min(start, size_);
        const std::uint8_t* end = data_ + size_;
        const std::uint8_t* found = std::search(begin, end, pattern, pattern + 4);
        if (found == end) {
            pos = start;
            throw end_of_input{"End of file reached before delimiter " + hex_tag(tag) + " found"};
        }
        const std::uint64_t count = static_cast<std::uint64_t>(found - begin);
        pos = static_cast<std::uint64_t>(found - data_) + 4;
        const std::uint8_t* ignored;
        take(4, ignored);
        set_undefined_value(e, start, count, defer >= 0 && count >= static_cast<std::uint64_t>(defer));
    }

    // Positions from which a walk over items is known not to reach a sequence
    // delimiter. A crafted input can make every element walk the same long
    // chain of items; remembering where walks failed keeps reading linear.
    std::unordered_set<std::uint64_t> failed_walks_;

    bool read_encapsulated(const generator_state& g, element& e, std::uint64_t start, std::int64_t defer) {
        std::uint64_t count = 0;
        std::vector<std::uint64_t> visited;
        auto fail = [&] {
            for (std::uint64_t p : visited) failed_walks_.insert(p << 1 | (g.little ? 1 : 0));
            pos = start;
            return false;
        };
        for (;;) {
            if (failed_walks_.count(pos << 1 | (g.little ? 1 : 0))) return fail();
            visited.push_back(pos);
            const std::uint8_t* t;
            if (take(4, t) < 4) return fail();
            count += 4;
            const std::uint32_t tag = load_tag(t, g.little);
            if (tag == sequence_delimitation_tag) break;
            if (tag != item_tag) return fail();
            const std::uint8_t* l;
            if (take(4, l) < 4) return fail();
            count += 4;
            const std::uint32_t length = load_u32(l, g.little);
            pos += length;
            count += length;
        }
        const std::uint8_t* ignored;
        take(4, ignored);
        set_undefined_value(e, start, count - 4, defer >= 0 && static_cast<std::uint64_t>(defer) <= count);
        pos = start + count + 4;
        return true;
    }

    void set_undefined_value(element& e, std::uint64_t start, std::uint64_t count, bool deferred) {
        if (deferred) {
            e.kind = value_kind::deferred;
            return;
        }
        e.kind = value_kind::bytes;
        e.value_offset = start;
        e.value_size = count;
    }
};

bool is_syntax(const std::string& uid, const char* expected) { return uid == expected; }

std::string strip_uid(const std::uint8_t* p, std::uint64_t n) {
    std::string s(reinterpret_cast<const char*>(p), n);
    while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

namespace {

// Text VRs: pydicom converts the Transfer Syntax UID to a string with them
// (and compares it with the syntaxes it knows); with any other VR it gets
// bytes or numbers, which match no syntax.
void read_transfer_syntax(const std::uint8_t* data, const element& e, const read_options& options, file_index& f) {
    if (e.kind == value_kind::sequence) {
        f.has_transfer_syntax = true;  // a sequence: not None, and matches nothing
        f.transfer_syntax = "\\sequence";
        return;
    }
    const bool un_as_ui = e.has_vr && e.vr == vr_code('U', 'N') && options.replace_un_with_known_vr;
    const bool text = !e.has_vr || e.dictionary_vr || un_as_ui || is_string_vr(e.vr);
    if (!text) {
        // bytes or numbers: None when empty, otherwise a value that matches nothing
        f.has_transfer_syntax = e.length != 0;
        f.transfer_syntax = "\\binary";
        return;
    }
    f.has_transfer_syntax = true;
    f.transfer_syntax = strip_uid(data + e.value_offset, e.kind == value_kind::bytes ? e.value_size : 0);
}

file_index read_file_impl(const std::uint8_t* data, std::size_t size, const read_options& options) {
    file_index f;
    // PS3.10 7.1: a 128-byte preamble, then "DICM".
    std::uint64_t start = 0;
    if (size >= 132 && std::memcmp(data + 128, "DICM", 4) == 0) {
        f.has_preamble = true;
        start = 132;
    } else if (!options.force) {
        core::raise(errc::not_dicom, size >= 132 ? 128 : size,
                    "File is missing DICOM File Meta Information header or the 'DICM' prefix is missing "
                    "from the header. Use force=True to force reading.");
    }

    // File Meta Information: explicit VR little endian, group 0002 only.
    {
        reader r(data, size, options, f.meta);
        r.pos = start;
        f.meta.implicit = r.read_dataset(-1, false, true, -1, stop_rule::not_meta_group, true, false, false, 0);
        f.meta_implicit = false;
        // An unknown VR in the first element means the group was implicit VR after all.
        if (!f.meta.elements.empty()) {
            const element& first = f.meta.elements.front();
            if (first.has_vr && !first.dictionary_vr && !is_known_vr(first.vr)) {
                f.meta = dataset_index{};
                reader again(data, size, options, f.meta);
                again.pos = start;
                f.meta.implicit =
                    again.read_dataset(-1, true, true, -1, stop_rule::not_meta_group, true, false, false, 0);
                f.meta_implicit = true;
                start = again.pos;
            } else {
                start = r.pos;
            }
        } else {
            start = r.pos;
        }
    }

    // A command set (group 0000) may precede the dataset.
    {
        reader r(data, size, options, f.command);
        r.pos = start;
        f.command.implicit =
            r.read_dataset(-1, true, true, -1, stop_rule::not_command_group, true, false, false, 0);
        start = r.pos;
    }

    for (const element& e : f.meta.elements) {
        if (e.tag == 0x00020010u && e.parent < 0) read_transfer_syntax(data, e, options, f);
    }

    f.implicit = true;
    f.little = true;
    const bool at_end = start >= size;
    if (at_end) {
    } else if (!f.has_transfer_syntax) {
        // No transfer syntax: guess from the first element, as pydicom does.
        if (size - start < 6) core::raise(errc::truncated, start, "too few bytes for a first element");
        const std::uint8_t* p = data + start;
        const std::uint16_t group = load_u16(p, true);
        const std::uint16_t vr = vr_code(static_cast<char>(p[4]), static_cast<char>(p[5]));
        if (is_known_vr(vr)) {
            f.implicit = false;
            // Big endian can only be explicit VR; a big-endian group 0x0008 reads as 0x0800.
            if (group >= 1024) f.little = false;
        }
    } else if (is_syntax(f.transfer_syntax, "1.2.840.10008.1.2")) {
    } else if (is_syntax(f.transfer_syntax, "1.2.840.10008.1.2.1")) {
        f.implicit = false;
    } else if (is_syntax(f.transfer_syntax, "1.2.840.10008.1.2.2")) {
        f.implicit = false;
        f.little = false;
    } else if (is_syntax(f.transfer_syntax, "1.2.840.10008.1.2.1.99")) {
        f.implicit = false;
        f.deflated = true;
        f.dataset_offset = start;
        f.end_offset = size;
        return f;
    } else {
        bool private_found = false;
        for (const private_syntax& s : options.private_syntaxes) {
            if (s.uid == f.transfer_syntax) {
                f.implicit = s.implicit;
                f.little = s.little;
                private_found = true;
                break;
            }
        }
        // Every other syntax, the encapsulated ones included, is explicit VR little endian.
        if (!private_found) f.implicit = false;
    }

    f.dataset_offset = start;
    f.dataset = read_dataset(data, size, f.implicit, f.little, options, &f.end_offset, start);
    return f;
}

}  // namespace

file_index read_file(const std::uint8_t* data, std::size_t size, const read_options& options) {
    try {
        return read_file_impl(data, size, options);
    } catch (const unknown_charset_vr& e) {
        core::raise(errc::unknown_vr, e.offset, "Specific Character Set (0008,0005) has an unknown VR");
    }
}

dataset_index read_dataset(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                           const read_options& options, std::uint64_t* end_offset, std::uint64_t start) {
    dataset_index out;
    reader r(data, size, options, out);
    r.pos = start;
    try {
        out.implicit = r.read_dataset(-1, implicit, little, -1,
                                      options.stop_before_pixels ? stop_rule::pixel_data : stop_rule::none, true,
                                      options.has_specific_tags, true, 0);
    } catch (const unknown_charset_vr& e) {
        core::raise(errc::unknown_vr, e.offset, "Specific Character Set (0008,0005) has an unknown VR");
    }
    if (end_offset) *end_offset = r.pos;
    return out;
}

dataset_index read_sequence_value(const std::uint8_t* data, std::size_t size, bool implicit, bool little,
                                  std::uint64_t value_tell, const read_options& options) {
    (void)value_tell;
    dataset_index out;
    out.implicit = implicit;
    reader r(data, size, options, out);
    try {
        r.read_sequence(-1, implicit, little, static_cast<std::uint32_t>(std::min<std::size_t>(size, 0xFFFFFFFEu)), 1);
    } catch (const unknown_charset_vr& e) {
        core::raise(errc::unknown_vr, e.offset, "Specific Character Set (0008,0005) has an unknown VR");
    }
    return out;
}

}  // namespace turbodicom::parse
