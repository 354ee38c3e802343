#include "scan/scan.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/bytes.hpp"
#include "core/dictionary.hpp"
#include "core/error.hpp"
#include "core/file_buffer.hpp"
#include "core/thread_pool.hpp"
#include "parse/parser.hpp"
#include "parse/vr.hpp"
#include "scan/values.hpp"

namespace turbodicom::scan {
namespace {

using parse::dataset_index;
using parse::element;
using parse::value_kind;

constexpr std::uint32_t specific_character_set = 0x00080005u;
constexpr std::uint32_t pixel_representation = 0x00280103u;

// Private creator elements (gggg,0010-00FF) are LO (PS3.5 7.8.1).
bool is_private_creator(std::uint32_t tag) {
    const std::uint32_t element_number = tag & 0xFFFF;
    return element_number >= 0x10 && element_number <= 0xFF;
}

std::string vr_text(const element& e) {
    if (e.has_vr) {
        if (e.dictionary_vr) return e.dictionary_vr;
        // pydicom reads UN of a standard tag with its dictionary VR (replace_un_with_known_vr)
        const bool standard = ((e.tag >> 16) & 1) == 0;
        if (e.vr == parse::vr_code('U', 'N') && standard && e.value_size < 0xFFFF) {
            if (const core::dict_entry* d = core::dictionary_lookup(e.tag)) return d->vr;
        }
        if (e.vr == parse::vr_code('U', 'N') && !standard && is_private_creator(e.tag)) return "LO";
        return std::string{static_cast<char>(e.vr >> 8), static_cast<char>(e.vr & 0xFF)};
    }
    if (const core::dict_entry* d = core::dictionary_lookup(e.tag)) return d->vr;
    if (((e.tag >> 16) & 1) && is_private_creator(e.tag)) return "LO";
    if ((e.tag & 0xFFFF) == 0) return "UL";  // group lengths
    return "UN";
}

bool is_sequence_vr(const element& e) {
    if (e.kind == value_kind::sequence) return true;
    return vr_text(e) == "SQ";
}

// The last element of `parent` with `tag` (a later duplicate replaces an earlier one).
std::int32_t find_element(const dataset_index& index, std::int32_t parent, std::uint32_t tag) {
    std::int32_t found = -1;
    for (std::size_t i = 0; i < index.elements.size(); ++i) {
        const element& e = index.elements[i];
        if (e.parent == parent && e.tag == tag) found = static_cast<std::int32_t>(i);
    }
    return found;
}

std::uint32_t count_items(const dataset_index& index, std::int32_t sequence) {
    std::uint32_t n = 0;
    for (const parse::item& it : index.items) n += it.sequence == sequence;
    return n;
}

// The index of item `k` of sequence element `sequence` (-1: the items of a parsed sequence value).
std::int32_t find_item(const dataset_index& index, std::int32_t sequence, std::int32_t k) {
    if (k < 0) k += static_cast<std::int32_t>(count_items(index, sequence));  // from the end, as in Python
    if (k < 0) return -1;
    std::int32_t seen = 0;
    for (std::size_t i = 0; i < index.items.size(); ++i) {
        if (index.items[i].sequence != sequence) continue;
        if (seen++ == k) return static_cast<std::int32_t>(i);
    }
    return -1;
}


// A dataset's own Specific Character Set replaces the one it inherits (pydicom's _read_charset).
void own_charset(const dataset_index& index, const std::uint8_t* data, std::int32_t parent, found_value& out) {
    const std::int32_t at = find_element(index, parent, specific_character_set);
    if (at < 0) return;
    const element& c = index.elements[static_cast<std::size_t>(at)];
    out.has_charset = true;
    out.charset.assign(reinterpret_cast<const char*>(data + c.value_offset), c.kind == value_kind::bytes ? c.value_size : 0);
}

void resolve(const dataset_index& index, const std::uint8_t* data, std::size_t size, std::int32_t parent,
             const tag_path& path, std::size_t step, const parse::read_options& options, found_value& out) {
    own_charset(index, data, parent, out);
    const std::int32_t at = find_element(index, parent, path[step].tag);
    if (at < 0) return;
    const element& e = index.elements[static_cast<std::size_t>(at)];
    if (step + 1 == path.size()) {
        out.found = true;
        out.vr = vr_text(e);
        out.little = e.little;
        out.implicit = e.implicit;
        out.length = e.length;
        if (out.vr == "UN" && ((e.tag >> 16) & 1) && (e.tag & 0xFF00)) {
            const std::uint32_t creator_tag = (e.tag & 0xFFFF0000u) | ((e.tag >> 8) & 0xFF);
            const std::int32_t creator = find_element(index, parent, creator_tag);
            if (creator >= 0 && index.elements[static_cast<std::size_t>(creator)].kind == value_kind::bytes) {
                const element& c = index.elements[static_cast<std::size_t>(creator)];
                out.has_private_creator = true;
                out.private_creator.assign(reinterpret_cast<const char*>(data + c.value_offset), c.value_size);
            }
        }
        if (e.kind == value_kind::sequence) {
            out.sequence = true;
            out.item_count = count_items(index, at);
        } else if (e.kind == value_kind::none && out.vr == "SQ") {
            out.sequence = true;  // empty
        } else if (e.kind == value_kind::bytes) {
            out.has_value = true;
            out.bytes.assign(reinterpret_cast<const char*>(data + e.value_offset), e.value_size);
            if (out.vr == "SQ") {
                out.sequence = true;
                dataset_index items = parse::read_sequence_value(data + e.value_offset, e.value_size, e.implicit,
                                                                 e.little, e.value_tell, options);
                out.item_count = count_items(items, -1);
            }
        }
        return;
    }
    if (!is_sequence_vr(e)) return;
    if (e.kind == value_kind::sequence) {
        const std::int32_t item = find_item(index, at, path[step].item);
        if (item >= 0) resolve(index, data, size, item, path, step + 1, options, out);
    } else if (e.kind == value_kind::bytes) {
        // A sequence of defined length: parse its value now.
        const std::uint8_t* value = data + e.value_offset;
        dataset_index items = parse::read_sequence_value(value, e.value_size, e.implicit, e.little, e.value_tell,
                                                         options);
        const std::int32_t item = find_item(items, -1, path[step].item);
        if (item >= 0) resolve(items, value, e.value_size, item, path, step + 1, options, out);
    }
}

parse::read_options options_for(const std::vector<tag_path>& paths, const scan_options& scan) {
    parse::read_options o;
    o.force = scan.force;
    o.has_specific_tags = true;
    bool ambiguous = false;
    std::uint32_t last = specific_character_set;
    for (const tag_path& p : paths) {
        if (p.empty()) continue;
        const std::uint32_t tag = p.front().tag;
        o.specific_tags.push_back(tag);
        last = std::max(last, tag);
        // A private element's creator names its VR when the file does not.
        if (((tag >> 16) & 1) && (tag & 0xFF00)) o.specific_tags.push_back((tag & 0xFFFF0000u) | ((tag >> 8) & 0xFF));
        const core::dict_entry* d = core::dictionary_lookup(p.back().tag);
        if (d && std::strstr(d->vr, "US or SS")) ambiguous = true;
    }
    if (ambiguous) {
        o.specific_tags.push_back(pixel_representation);
        last = std::max(last, pixel_representation);
    }
    std::sort(o.specific_tags.begin(), o.specific_tags.end());
    o.stop_after_tag = last;
    return o;
}

// The meta group values pydicom converts while reading (dcmread fails on them).
void check_meta(const parse::file_index& f) {
    for (const element& e : f.meta.elements) {
        if (e.parent >= 0) continue;
        const std::string vr = vr_text(e);
        if (e.tag == 0x00020000u && vr == "UL" && e.kind == value_kind::bytes && e.value_size % 4 != 0) {
            core::raise(core::errc::bad_length, e.value_tell, "File Meta Information Group Length is not 4 bytes");
        }
        if (e.has_vr && !e.dictionary_vr && (e.tag == 0x00020000u || e.tag == 0x00020010u) &&
            !parse::is_known_vr(e.vr)) {
            core::raise(core::errc::unknown_vr, e.value_tell, "meta element with an unknown VR");
        }
    }
}

file_result scan_one(const std::uint8_t* data, std::size_t size, const std::vector<tag_path>& paths,
                     const parse::read_options& options, bool* stopped = nullptr) {
    file_result r;
    r.values.resize(paths.size());
    const parse::file_index f = parse::read_file(data, size, options);
    if (stopped) *stopped = f.dataset.stopped;
    check_meta(f);
    if (f.deflated) {
        r.needs_python = true;
        return r;
    }
    const dataset_index& index = f.dataset;
    const std::int32_t charset = find_element(index, -1, specific_character_set);
    if (charset >= 0 && index.elements[static_cast<std::size_t>(charset)].kind == value_kind::bytes) {
        const element& c = index.elements[static_cast<std::size_t>(charset)];
        r.has_charset = true;
        r.charset.assign(reinterpret_cast<const char*>(data + c.value_offset), c.value_size);
    }
    const std::int32_t pixel_rep = find_element(index, -1, pixel_representation);
    if (pixel_rep >= 0) {
        const element& p = index.elements[static_cast<std::size_t>(pixel_rep)];
        if (p.kind == value_kind::bytes && p.value_size == 2) {
            r.pixel_representation = core::load_u16(data + p.value_offset, p.little);
        }
    }
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (paths[i].empty()) continue;
        // Group 0002 lives in the File Meta Information.
        const bool meta = (paths[i].front().tag >> 16) == 0x0002;
        resolve(meta ? f.meta : index, data, size, -1, paths[i], 0, options, r.values[i]);
    }
    return r;
}

// Reads a file's first bytes, then more only when what was asked for lies
// beyond them: most headers end within a few kilobytes, and copying the rest
// of a file would be most of the work.
file_result scan_path(const std::string& path, const std::vector<tag_path>& paths, const parse::read_options& options) {
    for (const std::size_t prefix : {std::size_t{8} << 10, std::size_t{256} << 10}) {
        core::file_buffer head(path, prefix);
        if (head.size() == head.file_size()) return scan_one(head.data(), head.size(), paths, options);
        try {
            bool stopped = false;
            file_result r = scan_one(head.data(), head.size(), paths, options, &stopped);
            if (stopped) return r;  // stopped inside the prefix: everything asked for was there
        } catch (const core::error&) {
            // the prefix ended inside a structure: read more
        }
    }
    core::file_buffer whole(path);
    return scan_one(whole.data(), whole.size(), paths, options);
}

void decode_all(file_result& r, const scan_options& options) {
    r.cells.reserve(r.values.size());
    for (const found_value& v : r.values) {
        const charset_kind charset = !v.has_charset                             ? charset_kind::none
                                     : options.ascii_charsets.count(v.charset) ? charset_kind::ascii
                                                                               : charset_kind::other;
        r.cells.push_back(decode(v, r.pixel_representation, charset, r.pool));
    }
    // Raw bytes are kept only where Python must still convert them: memory is
    // best freed on the thread that allocated it.
    for (std::size_t i = 0; i < r.values.size(); ++i) {
        if (r.cells[i].k != cell::kind::python) {
            std::string().swap(r.values[i].bytes);
            std::string().swap(r.values[i].charset);
        }
    }
}

}  // namespace

file_result scan_buffer(const std::uint8_t* data, std::size_t size, const std::vector<tag_path>& paths,
                        const scan_options& options) {
    const parse::read_options parse_options = options_for(paths, options);
    try {
        file_result r = scan_one(data, size, paths, parse_options);
        if (options.decode) decode_all(r, options);
        return r;
    } catch (const core::error& e) {
        file_result r;
        r.error = e.what();
        return r;
    } catch (const std::exception& e) {
        file_result r;
        r.error = e.what();
        return r;
    }
}

std::vector<file_result> scan_files(const std::vector<std::string>& files, const std::vector<tag_path>& paths,
                                    const scan_options& options, std::atomic<std::size_t>* done) {
    std::vector<file_result> results(files.size());
    const parse::read_options parse_options = options_for(paths, options);
    core::parallel_for(
        files.size(), options.workers,
        [&](std::size_t i) {
            file_result& r = results[i];
            try {
                r = scan_path(files[i], paths, parse_options);
                if (options.decode) decode_all(r, options);
            } catch (const core::error& e) {
                r = file_result{};
                r.error = e.what();
            } catch (const std::exception& e) {
                r = file_result{};
                r.error = e.what();
            }
        },
        done);
    return results;
}

std::vector<std::string> list_files(const std::string& root, bool recursive, std::vector<std::string>& errors) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(root, ec);
    if (ec || !fs::exists(status)) {
        errors.push_back(root + ": no such file or directory");
        return files;
    }
    if (!fs::is_directory(status)) {
        if (fs::is_symlink(status) && fs::is_directory(fs::status(root, ec))) {
            // a link to a directory given as the root: list what it points to
        } else {
            files.push_back(root);
            return files;
        }
    }
    // A walk of our own rather than recursive_directory_iterator, so that a
    // directory that cannot be read is reported and the walk goes on.
    std::vector<fs::path> pending{fs::path(root)};
    while (!pending.empty()) {
        const fs::path dir = std::move(pending.back());
        pending.pop_back();
        fs::directory_iterator it(dir, ec), end;
        if (ec) {
            errors.push_back(dir.string() + ": " + ec.message());
            ec.clear();
            continue;
        }
        for (; it != end; it.increment(ec)) {
            const fs::directory_entry& entry = *it;
            std::error_code entry_ec;
            const fs::file_status s = entry.symlink_status(entry_ec);
            if (entry_ec) {
                errors.push_back(entry.path().string() + ": " + entry_ec.message());
                continue;
            }
            if (fs::is_directory(s)) {
                if (recursive) pending.push_back(entry.path());
                continue;
            }
            if (fs::is_symlink(s) && fs::is_directory(entry.status(entry_ec))) continue;  // links to directories: not followed
            files.push_back(entry.path().string());
        }
        if (ec) {
            errors.push_back(dir.string() + ": " + ec.message());
            ec.clear();
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace turbodicom::scan
