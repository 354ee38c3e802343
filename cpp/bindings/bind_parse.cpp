// Binding of the Part 10 reader: parse with the GIL released, then build the
// raw elements pydicom keeps in Dataset._dict directly through the C API.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <unordered_map>

#include "core/file_buffer.hpp"
#include "bindings/tags.hpp"
#include "core/error.hpp"
#include "parse/encapsulated.hpp"
#include "parse/parser.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {
namespace {
std::unordered_map<std::uint32_t, PyObject*>& tag_cache();
PyObject* base_tag_type();
}  // namespace

PyObject* make_tag(std::uint32_t tag) {
    auto& cache = tag_cache();
    auto it = cache.find(tag);
    if (it != cache.end()) {
        Py_INCREF(it->second);
        return it->second;
    }
    PyObject* value = PyLong_FromUnsignedLong(tag);
    if (!value) return nullptr;
    PyObject* t = PyObject_CallOneArg(base_tag_type(), value);
    Py_DECREF(value);
    if (!t) return nullptr;
    if (cache.size() < 1000000) {
        Py_INCREF(t);
        cache.emplace(tag, t);
    }
    return t;
}


namespace {

using parse::dataset_index;
using parse::element;
using parse::value_kind;

// pydicom's types, looked up once.
struct pydicom_types {
    PyTypeObject* raw_element = nullptr;  // pydicom.dataelem.RawDataElement (a NamedTuple)
    PyObject* base_tag = nullptr;         // pydicom.tag.BaseTag (an int subclass)
};

pydicom_types& types() {
    static pydicom_types t;
    return t;
}

PyObject* base_tag_type() { return types().base_tag; }

// Caches of immutable objects shared between datasets; touched only with the GIL held.
std::unordered_map<std::uint32_t, PyObject*>& tag_cache() {
    static auto* cache = new std::unordered_map<std::uint32_t, PyObject*>();
    return *cache;
}
PyObject** vr_table() {
    static auto* table = new PyObject*[65536]();
    return table;
}
std::unordered_map<const char*, PyObject*>& dictionary_vr_cache() {
    static auto* cache = new std::unordered_map<const char*, PyObject*>();
    return *cache;
}

// A new reference to the VR string pydicom would hold (None for implicit VR).
PyObject* make_vr(const element& e) {
    if (!e.has_vr) Py_RETURN_NONE;
    if (e.dictionary_vr) {
        auto& cache = dictionary_vr_cache();
        auto it = cache.find(e.dictionary_vr);
        if (it == cache.end()) {
            PyObject* s = PyUnicode_InternFromString(e.dictionary_vr);
            if (!s) return nullptr;
            it = cache.emplace(e.dictionary_vr, s).first;
        }
        Py_INCREF(it->second);
        return it->second;
    }
    PyObject*& slot = vr_table()[e.vr];
    if (!slot) {
        const char text[2] = {static_cast<char>(e.vr >> 8), static_cast<char>(e.vr & 0xFF)};
        PyObject* s = PyUnicode_DecodeLatin1(text, 2, nullptr);
        if (!s) return nullptr;
        PyUnicode_InternInPlace(&s);
        slot = s;
    }
    Py_INCREF(slot);
    return slot;
}

// A new RawDataElement without going through its Python __new__: a NamedTuple
// with empty __slots__ has exactly a tuple's layout.
PyObject* make_raw_element(PyObject* tag, PyObject* vr, std::uint32_t length, PyObject* value,
                           std::uint64_t value_tell, bool implicit, bool little) {
    PyTypeObject* type = types().raw_element;
    PyObject* t = type->tp_alloc(type, 9);
    if (!t) return nullptr;
    PyObject* length_obj = PyLong_FromUnsignedLong(length);
    PyObject* tell_obj = PyLong_FromUnsignedLongLong(value_tell);
    if (!length_obj || !tell_obj) {
        Py_XDECREF(length_obj);
        Py_XDECREF(tell_obj);
        Py_DECREF(t);
        return nullptr;
    }
    PyObject** items = reinterpret_cast<PyTupleObject*>(t)->ob_item;
    Py_INCREF(tag);
    items[0] = tag;
    Py_INCREF(vr);
    items[1] = vr;
    items[2] = length_obj;
    Py_INCREF(value);
    items[3] = value;
    items[4] = tell_obj;
    items[5] = PyBool_FromLong(implicit);
    items[6] = PyBool_FromLong(little);
    items[7] = PyBool_FromLong(1);
    items[8] = PyBool_FromLong(0);
    // Its items are atomic (ints, str, bytes, bools): it can never be part of a
    // reference cycle, so the garbage collector need not track it.
    PyObject_GC_UnTrack(t);
    return t;
}

struct py_ref {
    PyObject* p = nullptr;
    explicit py_ref(PyObject* o) : p(o) {}
    ~py_ref() { Py_XDECREF(p); }
    py_ref(const py_ref&) = delete;
    py_ref& operator=(const py_ref&) = delete;
    PyObject* release() {
        PyObject* o = p;
        p = nullptr;
        return o;
    }
};

// Builds (dicts, sequences, items, warnings, implicit) from an index:
//   dicts[0] is the top-level dataset's {BaseTag: RawDataElement}, dicts[i + 1] item i's;
//   each undefined-length sequence holds None in its dict and is described in
//   `sequences` as (dict index, tag, vr, value_tell, [item indices], charset raw value or None);
//   items are (item_tell, undefined_length, implicit, little); charsets lists every
//   Specific Character Set value the reader met, in order.
py::object build(const dataset_index& index, const std::uint8_t* data, std::uint64_t base) {
    const std::size_t item_count = index.items.size();
    py_ref dicts(PyList_New(static_cast<Py_ssize_t>(item_count + 1)));
    if (!dicts.p) throw py::error_already_set();
    std::vector<Py_ssize_t> sizes(item_count + 1, 0);
    for (const element& e : index.elements) ++sizes[static_cast<std::size_t>(e.parent + 1)];
    for (std::size_t i = 0; i <= item_count; ++i) {
        PyObject* d = _PyDict_NewPresized(sizes[i]);
        if (!d) throw py::error_already_set();
        PyList_SET_ITEM(dicts.p, static_cast<Py_ssize_t>(i), d);
    }
    std::vector<py::tuple> sequences;
    std::vector<bool> live;            // false once a later element with the same tag replaced it
    std::vector<py::list> item_lists;  // per sequence entry
    std::unordered_map<std::int32_t, std::size_t> sequence_slot;  // element index -> entry
    // (dict, tag) -> the entry whose placeholder that dict holds
    std::unordered_map<std::uint64_t, std::size_t> placeholder;
    py_ref empty(PyBytes_FromStringAndSize(nullptr, 0));

    for (std::size_t i = 0; i < index.elements.size(); ++i) {
        const element& e = index.elements[i];
        PyObject* dict = PyList_GET_ITEM(dicts.p, e.parent + 1);
        py_ref tag(make_tag(e.tag));
        py_ref vr(make_vr(e));
        if (!tag.p || !vr.p) throw py::error_already_set();
        const std::uint64_t slot_key = (std::uint64_t(e.parent + 1) << 32) | e.tag;
        if (auto previous = placeholder.find(slot_key); previous != placeholder.end()) {
            live[previous->second] = false;  // a duplicate tag: the last element wins, as in a dict
            placeholder.erase(previous);
        }
        if (e.kind == value_kind::sequence) {
            if (PyDict_SetItem(dict, tag.p, Py_None) != 0) throw py::error_already_set();
            py::object charset = py::none();
            if (e.charset >= 0) {
                const element& c = index.elements[static_cast<std::size_t>(e.charset)];
                charset = c.kind == value_kind::bytes
                              ? py::reinterpret_steal<py::object>(PyBytes_FromStringAndSize(
                                    reinterpret_cast<const char*>(data + c.value_offset),
                                    static_cast<Py_ssize_t>(c.value_size)))
                              : py::bytes();
            }
            py::list items;
            sequence_slot[static_cast<std::int32_t>(i)] = sequences.size();
            placeholder[slot_key] = sequences.size();
            item_lists.push_back(items);
            live.push_back(true);
            sequences.push_back(py::make_tuple(e.parent + 1, py::reinterpret_borrow<py::object>(tag.p),
                                               py::reinterpret_borrow<py::object>(vr.p), e.value_tell + base, items,
                                               charset));
            continue;
        }
        PyObject* value;
        if (e.kind == value_kind::bytes) {
            value = e.value_size == 0 ? (Py_INCREF(empty.p), empty.p)
                                      : PyBytes_FromStringAndSize(reinterpret_cast<const char*>(data + e.value_offset),
                                                                  static_cast<Py_ssize_t>(e.value_size));
            if (!value) throw py::error_already_set();
        } else {
            Py_INCREF(Py_None);
            value = Py_None;
        }
        py_ref value_ref(value);
        py_ref raw(make_raw_element(tag.p, vr.p, e.length, value, e.value_tell + base, e.implicit, e.little));
        if (!raw.p) throw py::error_already_set();
        if (PyDict_SetItem(dict, tag.p, raw.p) != 0) throw py::error_already_set();
    }

    py::list items;
    for (std::size_t i = 0; i < item_count; ++i) {
        const parse::item& it = index.items[i];
        items.append(py::make_tuple(it.item_tell + base, it.undefined_length, it.implicit, it.little));
        auto slot = sequence_slot.find(it.sequence);
        if (slot != sequence_slot.end()) item_lists[slot->second].append(i + 1);
    }
    py::list live_sequences;
    for (std::size_t k = 0; k < sequences.size(); ++k) {
        if (live[k]) live_sequences.append(sequences[k]);
    }
    py::list warnings;
    for (const std::string& w : index.warnings) warnings.append(py::bytes(w).attr("decode")("latin-1"));
    py::list charsets;
    for (const auto& [offset, size] : index.charset_values) {
        charsets.append(py::bytes(reinterpret_cast<const char*>(data + offset), size));
    }
    return py::make_tuple(py::reinterpret_steal<py::object>(dicts.release()), live_sequences, items, warnings,
                          index.implicit, charsets);
}

parse::read_options make_options(bool stop_before_pixels, std::int64_t defer_size, bool force,
                                 const py::object& specific_tags, unsigned flags, const py::list& private_syntaxes) {
    parse::read_options o;
    o.stop_before_pixels = stop_before_pixels;
    o.defer_size = defer_size;
    o.force = force;
    if (!specific_tags.is_none()) {
        o.has_specific_tags = true;
        for (auto t : specific_tags) o.specific_tags.push_back(t.cast<std::uint32_t>());
        std::sort(o.specific_tags.begin(), o.specific_tags.end());
    }
    o.assume_implicit_vr_switch = flags & 1;
    o.infer_sq_for_un_vr = flags & 2;
    o.replace_un_with_known_vr = flags & 4;
    o.raise_on_vr_mismatch = flags & 8;
    o.none_for_empty_text = flags & 16;
    for (auto s : private_syntaxes) {
        auto t = s.cast<py::tuple>();
        o.private_syntaxes.push_back({t[0].cast<std::string>(), t[1].cast<bool>(), t[2].cast<bool>()});
    }
    return o;
}

py::tuple build_file(const parse::file_index& f, const std::uint8_t* data, std::uint64_t base, double mtime) {
    py::object preamble = f.has_preamble ? py::object(py::bytes(reinterpret_cast<const char*>(data), 128))
                                         : py::object(py::none());
    py::object dataset = f.deflated ? py::object(py::none()) : build(f.dataset, data, base);
    return py::make_tuple(preamble, build(f.meta, data, base), f.meta_implicit, build(f.command, data, base),
                          f.implicit, f.little, f.deflated, f.dataset_offset + base, dataset, f.end_offset + base,
                          mtime);
}

std::vector<std::uint64_t> u64_table(const py::object& table) {
    std::vector<std::uint64_t> out;
    if (table.is_none()) return out;
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(table).request();
    const auto* p = static_cast<const std::uint8_t*>(info.ptr);
    const std::size_t n = static_cast<std::size_t>(info.size * info.itemsize) / 8;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t v = 0;
        for (int b = 7; b >= 0; --b) v = (v << 8) | p[i * 8 + static_cast<std::size_t>(b)];
        out.push_back(v);
    }
    return out;
}

const char* rule_name(parse::frame_rule rule) {
    switch (rule) {
        case parse::frame_rule::offset_table: return "basic offset table";
        case parse::frame_rule::extended_table: return "extended offset table";
        case parse::frame_rule::single: return "single frame";
        case parse::frame_rule::one_per_fragment: return "one fragment per frame";
        case parse::frame_rule::start_markers: return "codestream start markers";
        case parse::frame_rule::end_markers: return "codestream end markers";
    }
    return "";
}

}  // namespace

void register_parse(py::module_& m) {
    {
        py::module_ dataelem = py::module_::import("pydicom.dataelem");
        py::module_ tag = py::module_::import("pydicom.tag");
        py::object raw = dataelem.attr("RawDataElement");
        types().raw_element = reinterpret_cast<PyTypeObject*>(raw.release().ptr());
        types().base_tag = py::object(tag.attr("BaseTag")).release().ptr();
    }

    // Errors of the core become ParseError with the offset and cause as attributes.
    static PyObject* parse_error = PyErr_NewException("turbodicom._core.ParseError", PyExc_ValueError, nullptr);
    m.attr("ParseError") = py::reinterpret_borrow<py::object>(parse_error);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const core::error& e) {
            py::object err = py::reinterpret_borrow<py::object>(parse_error)(e.what());
            err.attr("offset") = e.offset();
            err.attr("code") = core::errc_name(e.code());
            err.attr("detail") = e.detail();
            PyErr_SetObject(parse_error, err.ptr());
        }
    });

    m.def(
        "read_path",
        [](const std::string& path, bool stop_before_pixels, std::int64_t defer_size, bool force,
           const py::object& specific_tags, unsigned flags, const py::list& private_syntaxes) {
            auto options = make_options(stop_before_pixels, defer_size, force, specific_tags, flags, private_syntaxes);
            std::unique_ptr<core::file_buffer> buffer;
            parse::file_index f;
            {
                py::gil_scoped_release release;
                buffer = std::make_unique<core::file_buffer>(path);
                f = parse::read_file(buffer->data(), buffer->size(), options);
            }
            py::tuple result = build_file(f, buffer->data(), 0, buffer->mtime());
            py::object zipped = py::none();
            if (f.deflated) {
                const std::size_t offset = std::min<std::size_t>(f.dataset_offset, buffer->size());
                zipped = py::bytes(reinterpret_cast<const char*>(buffer->data() + offset), buffer->size() - offset);
            }
            return py::make_tuple(result, zipped);
        },
        py::arg("path"), py::arg("stop_before_pixels"), py::arg("defer_size"), py::arg("force"),
        py::arg("specific_tags"), py::arg("flags"), py::arg("private_syntaxes"),
        "Parse a Part 10 file; returns the raw pieces a FileDataset is built from.");

    m.def(
        "read_buffer",
        [](py::buffer source, std::uint64_t base, bool stop_before_pixels, std::int64_t defer_size, bool force,
           const py::object& specific_tags, unsigned flags, const py::list& private_syntaxes) {
            auto options = make_options(stop_before_pixels, defer_size, force, specific_tags, flags, private_syntaxes);
            py::buffer_info info = source.request();
            const auto* data = static_cast<const std::uint8_t*>(info.ptr);
            const auto size = static_cast<std::size_t>(info.size * info.itemsize);
            parse::file_index f;
            {
                py::gil_scoped_release release;
                f = parse::read_file(data, size, options);
            }
            return build_file(f, data, base, 0.0);
        },
        py::arg("source"), py::arg("base"), py::arg("stop_before_pixels"), py::arg("defer_size"), py::arg("force"),
        py::arg("specific_tags"), py::arg("flags"), py::arg("private_syntaxes"),
        "Parse a Part 10 stream held in a bytes-like object whose first byte is at stream offset `base`.");

    m.def(
        "read_dataset",
        [](py::buffer source, bool implicit, bool little, bool stop_before_pixels, std::int64_t defer_size,
           const py::object& specific_tags, unsigned flags) {
            auto options = make_options(stop_before_pixels, defer_size, true, specific_tags, flags, py::list());
            py::buffer_info info = source.request();
            const auto* data = static_cast<const std::uint8_t*>(info.ptr);
            const auto size = static_cast<std::size_t>(info.size * info.itemsize);
            parse::dataset_index index;
            std::uint64_t end = 0;
            {
                py::gil_scoped_release release;
                index = parse::read_dataset(data, size, implicit, little, options, &end);
            }
            return py::make_tuple(build(index, data, 0), end);
        },
        py::arg("source"), py::arg("implicit"), py::arg("little"), py::arg("stop_before_pixels"),
        py::arg("defer_size"), py::arg("specific_tags"), py::arg("flags"),
        "Parse a bare dataset (no preamble or meta group) with the given encoding.");

    m.def(
        "encapsulated_frames",
        [](py::buffer value, std::uint32_t number_of_frames, const py::object& extended_offsets,
           const py::object& extended_lengths) {
            py::buffer_info info = value.request();
            const auto* data = static_cast<const std::uint8_t*>(info.ptr);
            const auto size = static_cast<std::size_t>(info.size * info.itemsize);
            std::vector<std::uint64_t> offsets = u64_table(extended_offsets);
            std::vector<std::uint64_t> lengths = u64_table(extended_lengths);
            if (offsets.size() != lengths.size()) {
                core::raise(core::errc::bad_length, 0, "Extended Offset Table and its lengths differ in size");
            }
            parse::frame_rule rule;
            parse::encapsulated_frames index;
            {
                py::gil_scoped_release release;
                index = parse::index_encapsulated(data, size, number_of_frames, offsets.data(), lengths.data(),
                                                  offsets.size(), &rule);
            }
            py::list frames;
            for (const auto& frame : index.frames) {
                py::list spans;
                for (const auto& s : frame) spans.append(py::make_tuple(s.offset, s.length));
                frames.append(spans);
            }
            return py::make_tuple(frames, rule_name(rule));
        },
        py::arg("value"), py::arg("number_of_frames"), py::arg("extended_offsets") = py::none(),
        py::arg("extended_lengths") = py::none(),
        "Frame spans of an encapsulated Pixel Data value: ([[(offset, length), ...] per frame], rule).");

    m.def(
        "tag",
        [](std::uint32_t tag) {
            PyObject* t = make_tag(tag);
            if (!t) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(t);
        },
        "The shared BaseTag object for a tag value (the one the reader's datasets use as keys).");
}

}  // namespace turbodicom::bindings
