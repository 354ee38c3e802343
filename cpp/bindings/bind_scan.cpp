// Binding of the bulk scanner: files are read on the C++ pool with the GIL
// released; values are then converted to plain Python values (str, int,
// float, bytes, lists of them), column by column. What needs pydicom (text in
// a non-ASCII character set, unusual VRs) is handed back for Python to convert.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "bindings/text.hpp"
#include "scan/scan.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {
namespace {

using scan::found_value;

enum class family { numbers, tag, bytes, text_split, text_ae, text_lang, text_single, person_name, ui, is, ds, other };

constexpr std::uint16_t code(char a, char b) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(a) << 8) | static_cast<unsigned char>(b));
}

family family_of(const std::string& vr, int pixel_representation, char& format) {
    format = 0;
    if (vr.size() != 2) {
        if (vr == "US or SS") {
            format = pixel_representation == 1 ? 'h' : 'H';
            return family::numbers;
        }
        if (vr == "OB or OW" || vr == "US or OW" || vr == "US or SS or OW") return family::bytes;
        return family::other;
    }
    switch (code(vr[0], vr[1])) {
        case code('U', 'S'): format = 'H'; return family::numbers;
        case code('S', 'S'): format = 'h'; return family::numbers;
        case code('U', 'L'): format = 'L'; return family::numbers;
        case code('S', 'L'): format = 'l'; return family::numbers;
        case code('U', 'V'): format = 'Q'; return family::numbers;
        case code('S', 'V'): format = 'q'; return family::numbers;
        case code('F', 'L'): format = 'f'; return family::numbers;
        case code('F', 'D'): format = 'd'; return family::numbers;
        case code('A', 'T'): return family::tag;
        case code('O', 'B'): case code('O', 'W'): case code('O', 'D'): case code('O', 'F'):
        case code('O', 'L'): case code('O', 'V'): case code('U', 'N'):
            return family::bytes;
        case code('C', 'S'): case code('A', 'S'): case code('D', 'A'): case code('T', 'M'): case code('D', 'T'):
            return family::text_split;
        case code('A', 'E'): return family::text_ae;
        case code('S', 'H'): case code('L', 'O'): case code('U', 'C'): return family::text_lang;
        case code('L', 'T'): case code('S', 'T'): case code('U', 'T'): return family::text_single;
        case code('P', 'N'): return family::person_name;
        case code('U', 'I'): return family::ui;
        case code('I', 'S'): return family::is;
        case code('D', 'S'): return family::ds;
        default: return family::other;
    }
}

bool is_plain_ascii(const std::string& s) {
    for (unsigned char c : s) {
        if (c >= 0x80 || c == 0x1B) return false;
    }
    return true;
}

PyObject* number(const char* p, char format, bool little) {
    const std::size_t width = (format == 'H' || format == 'h') ? 2 : (format == 'Q' || format == 'q' || format == 'd') ? 8 : 4;
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const auto byte = static_cast<unsigned char>(little ? p[i] : p[width - 1 - i]);
        u |= std::uint64_t(byte) << (8 * i);
    }
    switch (format) {
        case 'H': return PyLong_FromUnsignedLong(static_cast<std::uint16_t>(u));
        case 'h': return PyLong_FromLong(static_cast<std::int16_t>(u));
        case 'L': return PyLong_FromUnsignedLong(static_cast<std::uint32_t>(u));
        case 'l': return PyLong_FromLong(static_cast<std::int32_t>(u));
        case 'Q': return PyLong_FromUnsignedLongLong(u);
        case 'q': return PyLong_FromLongLong(static_cast<std::int64_t>(u));
        case 'f': {
            const auto w = static_cast<std::uint32_t>(u);
            float f;
            std::memcpy(&f, &w, 4);
            return PyFloat_FromDouble(f);
        }
        default: {
            double d;
            std::memcpy(&d, &u, 8);
            return PyFloat_FromDouble(d);
        }
    }
}

// One value, or a list when there are several.
template <typename Make>
PyObject* one_or_list(std::size_t count, Make make) {
    if (count == 1) return make(0);
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(count));
    if (!list) return nullptr;
    for (std::size_t i = 0; i < count; ++i) {
        PyObject* item = make(i);
        if (!item) {
            Py_DECREF(list);
            return nullptr;
        }
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
    }
    return list;
}

PyObject* parts_to_python(const std::vector<std::pair<const char*, const char*>>& parts,
                          PyObject* (*make)(const char*, const char*)) {
    return one_or_list(parts.size(), [&](std::size_t i) { return make(parts[i].first, parts[i].second); });
}

PyObject* make_int(const char* b, const char* e) {
    std::string s(b, e);
    return PyLong_FromString(s.c_str(), nullptr, 10);
}

PyObject* make_float(const char* b, const char* e) {
    py::str s(std::string(b, e));
    return PyFloat_FromString(s.ptr());
}

// The plain Python value pydicom's value converts to; nullptr (no error) when Python must convert it.
PyObject* to_python(const found_value& v, int pixel_representation, bool charset_ascii) {
    if (!v.found) Py_RETURN_NONE;
    if (v.sequence) return PyLong_FromUnsignedLong(v.item_count);
    char format = 0;
    const family f = family_of(v.vr, pixel_representation, format);
    if (f == family::other) return nullptr;
    const bool text = f == family::text_split || f == family::text_ae || f == family::text_lang ||
                      f == family::text_single || f == family::person_name || f == family::ui;
    if (!v.has_value || v.length == 0) {
        if (text) return PyUnicode_New(0, 0);  // pydicom's empty text value
        if (f == family::bytes && v.has_value) return PyBytes_FromStringAndSize(nullptr, 0);
        Py_RETURN_NONE;
    }
    if (v.bytes.size() != v.length && v.length != 0xFFFFFFFFu) return nullptr;  // cut short: let pydicom decide
    const char* b = v.bytes.data();
    const char* e = b + v.bytes.size();
    switch (f) {
        case family::numbers: {
            const std::size_t width = (format == 'H' || format == 'h') ? 2 : (format == 'Q' || format == 'q' || format == 'd') ? 8 : 4;
            if (v.bytes.size() % width != 0) return nullptr;
            return one_or_list(v.bytes.size() / width, [&](std::size_t i) { return number(b + i * width, format, v.little); });
        }
        case family::tag: {
            if (v.bytes.size() % 4 != 0) return nullptr;
            return one_or_list(v.bytes.size() / 4, [&](std::size_t i) {
                const char* p = b + 4 * i;
                const auto group = static_cast<std::uint16_t>(PyLong_AsUnsignedLong(py::reinterpret_steal<py::object>(number(p, 'H', v.little)).ptr()));
                const auto elem = static_cast<std::uint16_t>(PyLong_AsUnsignedLong(py::reinterpret_steal<py::object>(number(p + 2, 'H', v.little)).ptr()));
                return PyLong_FromUnsignedLong((std::uint32_t(group) << 16) | elem);
            });
        }
        case family::bytes:
            return PyBytes_FromStringAndSize(b, static_cast<Py_ssize_t>(v.bytes.size()));
        default:
            break;
    }
    // Text: values in a character set other than the default need pydicom.
    const bool charset_dependent = f == family::text_lang || f == family::text_single || f == family::person_name;
    if (charset_dependent && !charset_ascii && !is_plain_ascii(v.bytes)) return nullptr;
    switch (f) {
        case family::text_split: {
            rstrip_space_nul(b, e);
            return parts_to_python(split_backslash(b, e), new_str);
        }
        case family::text_ae: {
            auto parts = split_backslash(b, e);
            for (auto& part : parts) strip_ws(part.first, part.second);
            return parts_to_python(parts, new_str);
        }
        case family::text_lang: {
            auto parts = split_backslash(b, e);
            for (auto& part : parts) rstrip_space_nul(part.first, part.second);
            return parts_to_python(parts, new_str);
        }
        case family::person_name: {
            rstrip_space_nul(b, e);
            return parts_to_python(split_backslash(b, e), new_str);
        }
        case family::text_single:
            rstrip_space_nul(b, e);
            return new_str(b, e);
        case family::ui: {
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) strip_ws(part.first, part.second);
            return parts_to_python(parts, new_str);
        }
        case family::is: {
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (!valid_is(part.first, part.second)) return nullptr;
            }
            return parts_to_python(parts, make_int);
        }
        case family::ds: {
            strip_ws(b, e);
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (!valid_ds(part.first, part.second)) return nullptr;
            }
            return parts_to_python(parts, make_float);
        }
        default:
            return nullptr;
    }
}

std::vector<scan::tag_path> to_paths(const py::list& specs) {
    std::vector<scan::tag_path> paths;
    for (auto spec : specs) {
        scan::tag_path path;
        for (auto step : spec.cast<py::list>()) {
            auto t = step.cast<py::tuple>();
            path.push_back({t[0].cast<std::uint32_t>(), t[1].cast<std::int32_t>()});
        }
        paths.push_back(std::move(path));
    }
    return paths;
}

}  // namespace

void register_scan(py::module_& m) {
    m.def(
        "list_files",
        [](const std::string& root, bool recursive) {
            std::vector<std::string> files;
            std::vector<std::string> errors;
            {
                py::gil_scoped_release release;
                files = scan::list_files(root, recursive, errors);
            }
            return py::make_tuple(files, errors);
        },
        py::arg("root"), py::arg("recursive"), "Regular files under root, sorted, and the directories that failed.");

    m.def(
        "scan_files",
        [](const std::vector<std::string>& files, const py::list& specs, unsigned workers, bool force,
           const py::object& progress, const py::set& ascii_charsets) {
            const std::vector<scan::tag_path> paths = to_paths(specs);
            scan::scan_options options;
            options.workers = workers;
            options.force = force;
            std::vector<scan::file_result> results;
            std::atomic<std::size_t> done{0};
            {
                py::gil_scoped_release release;
                if (progress.is_none()) {
                    results = scan::scan_files(files, paths, options, &done);
                } else {
                    // Workers read; this thread reports progress every 100 ms.
                    std::atomic<bool> finished{false};
                    std::thread runner([&] {
                        results = scan::scan_files(files, paths, options, &done);
                        finished = true;
                    });
                    while (!finished) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                        py::gil_scoped_acquire acquire;
                        try {
                            progress(done.load());
                        } catch (py::error_already_set&) {
                            // A failing callback must not stop the scan; Python will see no more reports.
                        }
                    }
                    runner.join();
                }
            }
            const std::size_t n = files.size();
            py::list columns;
            std::vector<PyObject*> column_lists;
            for (std::size_t c = 0; c < paths.size(); ++c) {
                py::list column(n);
                column_lists.push_back(column.ptr());
                columns.append(column);
            }
            py::list errors(n);
            py::list needs_python;
            py::list fallbacks;
            // Files of a series share their character set: decide once per distinct value.
            std::string last_charset;
            py::object charset;
            bool charset_ascii = true;
            bool have_last = false;
            for (std::size_t i = 0; i < n; ++i) {
                const scan::file_result& r = results[i];
                if (!r.error.empty()) errors[i] = py::str(r.error);
                else errors[i] = py::none();
                if (r.needs_python) needs_python.append(i);
                if (!r.has_charset) {
                    charset = py::none();
                    charset_ascii = true;
                    have_last = false;
                } else if (!have_last || r.charset != last_charset) {
                    charset = py::bytes(r.charset);
                    charset_ascii = PySet_Contains(ascii_charsets.ptr(), charset.ptr()) == 1;
                    last_charset = r.charset;
                    have_last = true;
                }
                for (std::size_t c = 0; c < paths.size(); ++c) {
                    PyObject* value = nullptr;
                    if (c < r.values.size()) {
                        value = to_python(r.values[c], r.pixel_representation, charset_ascii);
                        if (!value && PyErr_Occurred()) PyErr_Clear();
                        if (!value) {
                            const found_value& v = r.values[c];
                            fallbacks.append(py::make_tuple(c, i, v.vr, py::bytes(v.bytes), v.little, v.implicit,
                                                            v.length, charset));
                        }
                    }
                    if (!value) {
                        Py_INCREF(Py_None);
                        value = Py_None;
                    }
                    PyList_SET_ITEM(column_lists[c], static_cast<Py_ssize_t>(i), value);
                }
            }
            return py::make_tuple(columns, errors, needs_python, fallbacks);
        },
        py::arg("files"), py::arg("paths"), py::arg("workers"), py::arg("force"), py::arg("progress"),
        py::arg("ascii_charsets"),
        "Read the values at `paths` ([[(tag, item), ...], ...]) from every file on the C++ pool. Returns "
        "(columns, errors, files needing Python, values needing Python).");
}

}  // namespace turbodicom::bindings
