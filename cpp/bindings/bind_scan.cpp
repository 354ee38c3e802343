// Binding of the bulk scanner: files are read on the C++ pool with the GIL
// released; values are then converted to plain Python values (str, int,
// float, bytes, lists of them), column by column. What needs pydicom (text in
// a non-ASCII character set, unusual VRs) is handed back for Python to convert.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstring>
#include <thread>

#include "scan/scan.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {
namespace {

using scan::found_value;

// A decoded cell as a Python object; nullptr (no error) when pydicom must convert it.
PyObject* to_python(const scan::cell& c, const std::string& pool) {
    using kind = scan::cell::kind;
    switch (c.k) {
        case kind::none: Py_RETURN_NONE;
        case kind::integer:
            return c.is_unsigned ? PyLong_FromUnsignedLongLong(static_cast<std::uint64_t>(c.i))
                                 : PyLong_FromLongLong(c.i);
        case kind::real: return PyFloat_FromDouble(c.d);
        case kind::text: return PyUnicode_DecodeLatin1(pool.data() + c.offset, static_cast<Py_ssize_t>(c.size), nullptr);
        case kind::bytes: return PyBytes_FromStringAndSize(pool.data() + c.offset, static_cast<Py_ssize_t>(c.size));
        case kind::list: {
            PyObject* list = PyList_New(static_cast<Py_ssize_t>(c.items.size()));
            if (!list) return nullptr;
            for (std::size_t i = 0; i < c.items.size(); ++i) {
                PyObject* item = to_python(c.items[i], pool);
                if (!item) {
                    Py_DECREF(list);
                    return nullptr;
                }
                PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
            }
            return list;
        }
        case kind::python: return nullptr;
    }
    return nullptr;
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
            // File names are bytes: they need not be valid UTF-8 (os.fsdecode them).
            py::list names;
            for (const std::string& f : files) names.append(py::bytes(f));
            py::list problems;
            for (const std::string& e : errors) problems.append(py::bytes(e));
            return py::make_tuple(names, problems);
        },
        py::arg("root"), py::arg("recursive"),
        "Regular files under root (bytes paths), sorted, and the directories that failed.");

    m.def(
        "scan_files",
        [](const std::vector<std::string>& files, const py::list& specs, unsigned workers, bool force,
           const py::object& progress, const py::set& ascii_charsets) {
            const std::vector<scan::tag_path> paths = to_paths(specs);
            scan::scan_options options;
            options.workers = workers;
            options.force = force;
            options.decode = true;
            for (auto value : ascii_charsets) options.ascii_charsets.insert(value.cast<std::string>());
            std::vector<scan::file_result> results;
            std::atomic<std::size_t> done{0};
            {
                py::gil_scoped_release release;
                if (progress.is_none()) {
                    results = scan::scan_files(files, paths, options, &done);
                } else {
                    // Workers read; this thread reports progress every 100 ms, and
                    // stops waiting the moment they finish.
                    std::mutex mutex;
                    std::condition_variable finished_cv;
                    bool finished = false;
                    std::thread runner([&] {
                        auto r = scan::scan_files(files, paths, options, &done);
                        std::lock_guard<std::mutex> lock(mutex);
                        results = std::move(r);
                        finished = true;
                        finished_cv.notify_one();
                    });
                    for (;;) {
                        {
                            std::unique_lock<std::mutex> lock(mutex);
                            if (finished_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return finished; })) break;
                        }
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
            for (std::size_t i = 0; i < n; ++i) {
                const scan::file_result& r = results[i];
                // Messages may quote file names, which need not be UTF-8.
                if (!r.error.empty()) {
                    errors[i] = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
                        r.error.data(), static_cast<Py_ssize_t>(r.error.size()), "surrogateescape"));
                }
                else errors[i] = py::none();
                if (r.needs_python) needs_python.append(i);
                for (std::size_t c = 0; c < paths.size(); ++c) {
                    PyObject* value = c < r.cells.size() ? to_python(r.cells[c], r.pool) : nullptr;
                    if (!value && PyErr_Occurred()) throw py::error_already_set();
                    if (!value && c < r.cells.size()) {
                        const found_value& v = r.values[c];
                        py::object charset = v.has_charset ? py::object(py::bytes(v.charset)) : py::object(py::none());
                        py::object creator = v.has_private_creator ? py::object(py::bytes(v.private_creator))
                                                                   : py::object(py::none());
                        fallbacks.append(py::make_tuple(c, i, v.vr, py::bytes(v.bytes), v.little, v.implicit,
                                                        v.length, charset, creator));
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
