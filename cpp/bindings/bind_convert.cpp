// Lazy conversion of raw elements into pydicom DataElements for the common VRs.
//
// pydicom converts a raw element on first access through hooks, converters and
// validators written in Python (~10 us each). Here the same values are built
// directly: the same types (str, int, float, list, UID, IS, DSfloat,
// MultiValue), the same attributes, stored back into Dataset._dict as pydicom
// stores them. Only values that pydicom would accept silently take this path:
// anything that would warn, needs a character set other than ASCII, or depends
// on a non-default pydicom setting falls back to pydicom itself.
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
#include <vector>

#include "bindings/tags.hpp"
#include "bindings/text.hpp"
#include "core/bytes.hpp"
#include "core/dictionary.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {
namespace {

struct pydicom_api {
    PyTypeObject* raw_element = nullptr;
    PyTypeObject* data_element = nullptr;
    PyTypeObject* uid = nullptr;
    PyTypeObject* is = nullptr;
    PyTypeObject* ds_float = nullptr;
    PyTypeObject* multi_value = nullptr;
    PyObject* config = nullptr;    // pydicom.config
    PyObject* settings = nullptr;  // pydicom.config.settings
    PyObject* hooks = nullptr;     // pydicom.hooks.hooks
    PyObject* default_vr_hook = nullptr;
    PyObject* default_value_hook = nullptr;
    PyObject* keywords = nullptr;        // {keyword: BaseTag}
    PyObject* ascii_encodings = nullptr; // Python codec names that decode 0x00-0x7F (no ESC) as ASCII
    PyObject* dataset_getitem = nullptr; // pydicom.dataset.Dataset.__getitem__
    PyObject* dataset_getattr = nullptr; // pydicom.dataset.Dataset.__getattr__
    PyObject* str_type = nullptr;        // builtins.str, the constructor MultiValue records
};

pydicom_api& api() {
    static pydicom_api a;
    return a;
}

PyObject* interned(const char* s) {
    PyObject* o = PyUnicode_InternFromString(s);
    return o;
}

struct names_t {
    PyObject* dict_ = interned("_dict");
    PyObject* read_charset = interned("_read_charset");
    PyObject* value = interned("value");
    PyObject* tag = interned("tag");
    PyObject* vr = interned("VR");
    PyObject* validation_mode = interned("validation_mode");
    PyObject* value_ = interned("_value");
    PyObject* file_tell = interned("file_tell");
    PyObject* is_undefined_length = interned("is_undefined_length");
    PyObject* private_creator = interned("private_creator");
    PyObject* original_string = interned("original_string");
    PyObject* auto_format = interned("auto_format");
    PyObject* constructor = interned("_constructor");
    PyObject* list = interned("_list");
    PyObject* reading_validation_mode = interned("reading_validation_mode");
    PyObject* use_none_as_empty = interned("use_none_as_empty_text_VR_value");
    PyObject* datetime_conversion = interned("datetime_conversion");
    PyObject* use_ds_numpy = interned("use_DS_numpy");
    PyObject* use_is_numpy = interned("use_IS_numpy");
    PyObject* use_ds_decimal = interned("use_DS_decimal");
    PyObject* data_element_callback = interned("data_element_callback");
    PyObject* raw_element_vr = interned("raw_element_vr");
    PyObject* raw_element_value = interned("raw_element_value");
    PyObject* raw_element_kwargs = interned("raw_element_kwargs");
};

names_t& names() {
    static names_t* n = new names_t();
    return *n;
}

// Owned reference holder.
struct ref {
    PyObject* p;
    explicit ref(PyObject* o = nullptr) : p(o) {}
    ~ref() { Py_XDECREF(p); }
    ref(const ref&) = delete;
    ref& operator=(const ref&) = delete;
    PyObject* release() {
        PyObject* o = p;
        p = nullptr;
        return o;
    }
};

bool attr_is(PyObject* obj, PyObject* name, PyObject* expected) {
    ref v(PyObject_GetAttr(obj, name));
    if (!v.p) {
        PyErr_Clear();
        return false;
    }
    return v.p == expected;
}

bool attr_false(PyObject* obj, PyObject* name) {
    ref v(PyObject_GetAttr(obj, name));
    if (!v.p) {
        PyErr_Clear();
        return false;
    }
    return v.p == Py_False;
}

// The validation mode when pydicom is configured as the fast path assumes, else -1.
long fast_path_mode() {
    pydicom_api& a = api();
    names_t& n = names();
    if (!attr_false(a.config, n.use_none_as_empty) || !attr_false(a.config, n.datetime_conversion) ||
        !attr_false(a.config, n.use_ds_numpy) || !attr_false(a.config, n.use_is_numpy) ||
        !attr_false(a.config, n.use_ds_decimal) || !attr_is(a.config, n.data_element_callback, Py_None) ||
        !attr_is(a.hooks, n.raw_element_vr, a.default_vr_hook) ||
        !attr_is(a.hooks, n.raw_element_value, a.default_value_hook)) {
        return -1;
    }
    {
        ref kwargs(PyObject_GetAttr(a.hooks, n.raw_element_kwargs));
        if (!kwargs.p || !PyDict_Check(kwargs.p) || PyDict_GET_SIZE(kwargs.p) != 0) {
            PyErr_Clear();
            return -1;
        }
    }
    ref mode(PyObject_GetAttr(a.settings, n.reading_validation_mode));
    if (!mode.p || !PyLong_Check(mode.p)) {
        PyErr_Clear();
        return -1;
    }
    long m = PyLong_AsLong(mode.p);
    return (m == 0 || m == 1) ? m : -1;  // IGNORE or WARN; RAISE checks more than we do
}

enum class kind { numbers, text_split, text_ae, text_lang, text_single, ui, is, ds };

struct vr_rule {
    kind k;
    std::size_t max_len;   // for validation; 0 = none
    char num_format;       // for numbers
};

bool rule_for(std::uint16_t vr, vr_rule& r) {
    switch (vr) {
        case ('U' << 8) | 'S': r = {kind::numbers, 0, 'H'}; return true;
        case ('S' << 8) | 'S': r = {kind::numbers, 0, 'h'}; return true;
        case ('U' << 8) | 'L': r = {kind::numbers, 0, 'L'}; return true;
        case ('S' << 8) | 'L': r = {kind::numbers, 0, 'l'}; return true;
        case ('U' << 8) | 'V': r = {kind::numbers, 0, 'Q'}; return true;
        case ('S' << 8) | 'V': r = {kind::numbers, 0, 'q'}; return true;
        case ('F' << 8) | 'L': r = {kind::numbers, 0, 'f'}; return true;
        case ('F' << 8) | 'D': r = {kind::numbers, 0, 'd'}; return true;
        case ('C' << 8) | 'S': case ('A' << 8) | 'S': case ('D' << 8) | 'A': case ('T' << 8) | 'M':
        case ('D' << 8) | 'T':
            r = {kind::text_split, 0, 0}; return true;
        case ('A' << 8) | 'E': r = {kind::text_ae, 0, 0}; return true;
        case ('S' << 8) | 'H': r = {kind::text_lang, 16, 0}; return true;
        case ('L' << 8) | 'O': r = {kind::text_lang, 64, 0}; return true;
        case ('U' << 8) | 'C': r = {kind::text_lang, 0, 0}; return true;
        case ('L' << 8) | 'T': r = {kind::text_single, 10240, 0}; return true;
        case ('S' << 8) | 'T': r = {kind::text_single, 1024, 0}; return true;
        case ('U' << 8) | 'T': r = {kind::text_single, 0, 0}; return true;
        case ('U' << 8) | 'I': r = {kind::ui, 64, 0}; return true;
        case ('I' << 8) | 'S': r = {kind::is, 12, 0}; return true;
        case ('D' << 8) | 'S': r = {kind::ds, 16, 0}; return true;
        default: return false;
    }
}

bool is_text_vr(kind k) { return k != kind::numbers && k != kind::is && k != kind::ds; }

// `base.__new__(type, arg)`: what super().__new__(cls, val) does in pydicom's
// UID, IS and DSfloat, without their Python-level __new__ and its validation
// (the value has been checked to pass it).
PyObject* call_base_new(PyTypeObject* base, PyTypeObject* type, PyObject* arg) {
    ref args(PyTuple_Pack(1, arg));
    if (!args.p) return nullptr;
    return base->tp_new(type, args.p, nullptr);
}

bool set_attr(PyObject* obj, PyObject* name, PyObject* value) {
    return PyObject_GenericSetAttr(obj, name, value) == 0;
}

PyObject* make_uid(const char* b, const char* e) {
    ref s(new_str(b, e));
    if (!s.p) return nullptr;
    return call_base_new(&PyUnicode_Type, api().uid, s.p);
}

PyObject* make_is(const char* b, const char* e) {
    ref s(new_str(b, e));
    if (!s.p) return nullptr;
    ref v(call_base_new(&PyLong_Type, api().is, s.p));
    if (!v.p) return nullptr;
    const char* sb = b;
    const char* se = e;
    strip_ws(sb, se);
    ref stripped(new_str(sb, se));
    if (!stripped.p || !set_attr(v.p, names().original_string, stripped.p)) return nullptr;
    return v.release();
}

PyObject* make_ds(const char* b, const char* e) {
    ref s(new_str(b, e));
    if (!s.p) return nullptr;
    ref v(call_base_new(&PyFloat_Type, api().ds_float, s.p));
    if (!v.p) return nullptr;
    const char* sb = b;
    const char* se = e;
    strip_ws(sb, se);
    ref stripped(new_str(sb, se));
    if (!stripped.p || !set_attr(v.p, names().original_string, stripped.p) ||
        !set_attr(v.p, names().auto_format, Py_False)) {
        return nullptr;
    }
    return v.release();
}

// MultiValue(constructor, items) with items already of the constructor's type.
PyObject* make_multi_value(PyObject* constructor, PyObject* items) {
    PyTypeObject* type = api().multi_value;
    ref mv(type->tp_alloc(type, 0));
    if (!mv.p) return nullptr;
    if (!set_attr(mv.p, names().constructor, constructor) || !set_attr(mv.p, names().list, items)) return nullptr;
    return mv.release();
}

// Status of a conversion attempt.
enum class outcome { done, fallback, error };

outcome convert_numbers(const char* data, std::size_t size, char format, bool little, ref& value) {
    const std::size_t width = core::number_width(format);
    if (size % width != 0 || size == 0) return outcome::fallback;
    std::size_t count = size / width;
    auto load = [&](const char* p) -> PyObject* {
        const std::uint64_t u = core::load_uint(reinterpret_cast<const std::uint8_t*>(p), width, little);
        switch (format) {
            case 'H': return PyLong_FromUnsignedLong(static_cast<std::uint16_t>(u));
            case 'h': return PyLong_FromLong(static_cast<std::int16_t>(u));
            case 'L': return PyLong_FromUnsignedLong(static_cast<std::uint32_t>(u));
            case 'l': return PyLong_FromLong(static_cast<std::int32_t>(u));
            case 'Q': return PyLong_FromUnsignedLongLong(u);
            case 'q': return PyLong_FromLongLong(static_cast<std::int64_t>(u));
            case 'f': {
                std::uint32_t w = static_cast<std::uint32_t>(u);
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
    };
    if (count == 1) {
        value.p = load(data);
        return value.p ? outcome::done : outcome::error;
    }
    ref list(PyList_New(static_cast<Py_ssize_t>(count)));
    if (!list.p) return outcome::error;
    for (std::size_t i = 0; i < count; ++i) {
        PyObject* item = load(data + i * width);
        if (!item) return outcome::error;
        PyList_SET_ITEM(list.p, static_cast<Py_ssize_t>(i), item);
    }
    value.p = list.release();
    return outcome::done;
}

// One value or a MultiValue of `constructor` built by `make` from each part.
template <typename Make>
outcome one_or_many(const std::vector<std::pair<const char*, const char*>>& parts, PyObject* constructor, Make make,
                    ref& value) {
    if (parts.size() == 1) {
        value.p = make(parts[0].first, parts[0].second);
        return value.p ? outcome::done : outcome::error;
    }
    ref items(PyList_New(static_cast<Py_ssize_t>(parts.size())));
    if (!items.p) return outcome::error;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        PyObject* item = make(parts[i].first, parts[i].second);
        if (!item) return outcome::error;
        PyList_SET_ITEM(items.p, static_cast<Py_ssize_t>(i), item);
    }
    value.p = make_multi_value(constructor, items.p);
    return value.p ? outcome::done : outcome::error;
}

outcome convert_value(const vr_rule& rule, const char* b, std::size_t size, bool little, ref& value) {
    const char* e = b + size;
    if (rule.k == kind::numbers) return convert_numbers(b, size, rule.num_format, little, value);
    // Text: only 7-bit values without escape sequences, which every
    // character set accepted here decodes as ASCII.
    for (const char* p = b; p < e; ++p) {
        if (static_cast<unsigned char>(*p) >= 0x80 || *p == 0x1B) return outcome::fallback;
    }
    PyObject* str_type = api().str_type;
    switch (rule.k) {
        case kind::text_split: {  // multi_string(decoded)
            rstrip_space_nul(b, e);
            return one_or_many(split_backslash(b, e), str_type, new_str, value);
        }
        case kind::text_ae: {
            auto parts = split_backslash(b, e);
            for (auto& part : parts) strip_ws(part.first, part.second);
            return one_or_many(parts, str_type, new_str, value);
        }
        case kind::text_lang: {  // convert_text: validate each part, then rstrip
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (rule.max_len && static_cast<std::size_t>(part.second - part.first) > rule.max_len) {
                    return outcome::fallback;
                }
                rstrip_space_nul(part.first, part.second);
            }
            return one_or_many(parts, str_type, new_str, value);
        }
        case kind::text_single: {
            if (rule.max_len && size > rule.max_len) return outcome::fallback;
            rstrip_space_nul(b, e);
            value.p = new_str(b, e);
            return value.p ? outcome::done : outcome::error;
        }
        case kind::ui: {
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (static_cast<std::size_t>(part.second - part.first) > rule.max_len ||
                    !valid_uid(part.first, part.second)) {
                    return outcome::fallback;
                }
            }
            return one_or_many(parts, reinterpret_cast<PyObject*>(api().uid), make_uid, value);
        }
        case kind::is: {
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (static_cast<std::size_t>(part.second - part.first) > rule.max_len ||
                    !valid_is(part.first, part.second)) {
                    return outcome::fallback;
                }
            }
            return one_or_many(parts, reinterpret_cast<PyObject*>(api().is), make_is, value);
        }
        case kind::ds: {
            strip_ws(b, e);
            rstrip_space_nul(b, e);
            auto parts = split_backslash(b, e);
            for (auto& part : parts) {
                if (!valid_ds(part.first, part.second)) return outcome::fallback;
            }
            return one_or_many(parts, reinterpret_cast<PyObject*>(api().ds_float), make_ds, value);
        }
        default:
            return outcome::fallback;
    }
}

bool charset_is_ascii(PyObject* ds) {
    ref charset(PyObject_GetAttr(ds, names().read_charset));
    if (!charset.p) {
        PyErr_Clear();
        return false;
    }
    PyObject* first = charset.p;
    if (PyList_Check(first)) {
        if (PyList_GET_SIZE(first) == 0) return false;
        first = PyList_GET_ITEM(first, 0);
    }
    if (!PyUnicode_Check(first)) return false;
    int found = PySet_Contains(api().ascii_encodings, first);
    if (found < 0) PyErr_Clear();
    return found == 1;
}

// A new DataElement for `raw`, nullptr with no error set when pydicom must do it.
PyObject* convert_raw(PyObject* ds, PyObject* raw) {
    PyObject** f = reinterpret_cast<PyTupleObject*>(raw)->ob_item;
    PyObject* tag = f[0];
    PyObject* vr = f[1];
    PyObject* length = f[2];
    PyObject* raw_value = f[3];
    const unsigned long tag_value = PyLong_AsUnsignedLong(tag);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return nullptr;
    }
    // Private tags (creator bookkeeping) and pixel data (cached arrays) stay with pydicom.
    if ((tag_value >> 16) & 1) return nullptr;
    if ((tag_value >> 16) == 0x7FE0) return nullptr;
    std::uint16_t vr_code = 0;
    if (vr == Py_None) {
        const core::dict_entry* entry = core::dictionary_lookup(static_cast<std::uint32_t>(tag_value));
        if (!entry || std::strlen(entry->vr) != 2) return nullptr;  // ambiguous VRs are corrected by pydicom
        vr_code = static_cast<std::uint16_t>((entry->vr[0] << 8) | entry->vr[1]);
    } else {
        if (!PyUnicode_Check(vr) || PyUnicode_GET_LENGTH(vr) != 2) return nullptr;
        vr_code = static_cast<std::uint16_t>((PyUnicode_READ_CHAR(vr, 0) << 8) | PyUnicode_READ_CHAR(vr, 1));
    }
    vr_rule rule;
    if (!rule_for(vr_code, rule)) return nullptr;
    const long length_value = PyLong_AsLong(length);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return nullptr;
    }
    const long mode = fast_path_mode();
    if (mode < 0) return nullptr;

    ref value;
    if (length_value == 0) {
        // empty_value_for_VR: '' for text, None for numbers, IS and DS
        value.p = is_text_vr(rule.k) ? PyUnicode_New(0, 0) : (Py_INCREF(Py_None), Py_None);
    } else {
        if (!PyBytes_Check(raw_value) || PyBytes_GET_SIZE(raw_value) != length_value) return nullptr;
        // SH/LO/UC/LT/ST/UT are decoded with the character set; the rest are ASCII by definition.
        if ((rule.k == kind::text_lang || rule.k == kind::text_single) && !charset_is_ascii(ds)) return nullptr;
        const bool little = f[6] == Py_True;
        outcome o = convert_value(rule, PyBytes_AS_STRING(raw_value), static_cast<std::size_t>(length_value), little,
                                  value);
        if (o == outcome::error) return nullptr;  // error set
        if (o == outcome::fallback) return nullptr;
    }
    if (!value.p) return nullptr;

    PyObject* vr_obj = vr;
    ref vr_from_dictionary;
    if (vr == Py_None) {
        const char text[2] = {static_cast<char>(vr_code >> 8), static_cast<char>(vr_code & 0xFF)};
        vr_from_dictionary.p = PyUnicode_FromStringAndSize(text, 2);
        if (!vr_from_dictionary.p) return nullptr;
        PyUnicode_InternInPlace(&vr_from_dictionary.p);
        vr_obj = vr_from_dictionary.p;
    }
    PyTypeObject* type = api().data_element;
    ref elem(type->tp_alloc(type, 0));
    if (!elem.p) return nullptr;
    names_t& n = names();
    ref mode_obj(PyLong_FromLong(mode));
    if (!mode_obj.p) return nullptr;
    // The attributes DataElement.__init__ sets, in its order.
    if (!set_attr(elem.p, n.tag, tag) || !set_attr(elem.p, n.vr, vr_obj) ||
        !set_attr(elem.p, n.validation_mode, mode_obj.p) || !set_attr(elem.p, n.value_, value.p) ||
        !set_attr(elem.p, n.file_tell, f[4]) ||
        !set_attr(elem.p, n.is_undefined_length, length_value == 0xFFFFFFFFL ? Py_True : Py_False) ||
        !set_attr(elem.p, n.private_creator, Py_None)) {
        return nullptr;
    }
    return elem.release();
}

PyObject* elements_of(PyObject* ds) {
    PyObject** dict_ptr = _PyObject_GetDictPtr(ds);
    if (!dict_ptr || !*dict_ptr) return nullptr;
    return PyDict_GetItemWithError(*dict_ptr, names().dict_);  // borrowed
}

// Element `key` of `ds` converted, or nullptr without error when pydicom must handle it.
PyObject* fast_item(PyObject* ds, PyObject* key) {
    if (!PyLong_Check(key)) return nullptr;
    PyObject* elements = elements_of(ds);
    if (!elements || !PyDict_Check(elements)) return nullptr;
    PyObject* elem = PyDict_GetItemWithError(elements, key);
    if (!elem) return nullptr;
    if (Py_TYPE(elem) != api().raw_element) {
        Py_INCREF(elem);
        return elem;
    }
    PyObject* converted = convert_raw(ds, elem);
    if (!converted) return nullptr;
    if (PyDict_SetItem(elements, PyTuple_GET_ITEM(elem, 0), converted) != 0) {
        Py_DECREF(converted);
        return nullptr;
    }
    return converted;
}

PyObject* py_getitem(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "getitem(ds, key)");
        return nullptr;
    }
    PyObject* elem = fast_item(args[0], args[1]);
    if (elem || PyErr_Occurred()) return elem;
    return PyObject_CallFunctionObjArgs(api().dataset_getitem, args[0], args[1], nullptr);
}

PyObject* py_getattr(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "getattr(ds, name)");
        return nullptr;
    }
    PyObject* ds = args[0];
    PyObject* tag = PyDict_GetItemWithError(api().keywords, args[1]);
    if (tag) {
        PyObject* elem = fast_item(ds, tag);
        if (elem) {
            // DataElement.value is a property returning _value: read it directly.
            PyObject* value = nullptr;
            if (Py_TYPE(elem) == api().data_element) {
                PyObject** dict_ptr = _PyObject_GetDictPtr(elem);
                if (dict_ptr && *dict_ptr) {
                    value = PyDict_GetItemWithError(*dict_ptr, names().value_);
                    Py_XINCREF(value);
                }
            }
            if (!value && !PyErr_Occurred()) value = PyObject_GetAttr(elem, names().value);
            Py_DECREF(elem);
            return value;
        }
        if (PyErr_Occurred()) return nullptr;
    } else if (PyErr_Occurred()) {
        return nullptr;
    }
    return PyObject_CallFunctionObjArgs(api().dataset_getattr, ds, args[1], nullptr);
}

PyMethodDef methods[] = {
    {"dataset_getitem", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_getitem)), METH_FASTCALL,
     "Dataset.__getitem__ with the common VRs converted in C++."},
    {"dataset_getattr", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_getattr)), METH_FASTCALL,
     "Dataset.__getattr__ with the common VRs converted in C++."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject* type_attr(const py::module_& m, const char* name) {
    return reinterpret_cast<PyTypeObject*>(py::object(m.attr(name)).release().ptr());
}

}  // namespace

void register_convert(py::module_& m) {
    m.def(
        "init_convert",
        [](const py::dict& keyword_tags, const py::set& ascii_encodings) {
            pydicom_api& a = api();
            py::module_ dataelem = py::module_::import("pydicom.dataelem");
            py::module_ uid = py::module_::import("pydicom.uid");
            py::module_ valuerep = py::module_::import("pydicom.valuerep");
            py::module_ multival = py::module_::import("pydicom.multival");
            py::module_ config = py::module_::import("pydicom.config");
            py::module_ hooks = py::module_::import("pydicom.hooks");
            py::module_ dataset = py::module_::import("pydicom.dataset");
            py::module_ builtins = py::module_::import("builtins");
            a.raw_element = type_attr(dataelem, "RawDataElement");
            a.data_element = type_attr(dataelem, "DataElement");
            a.uid = type_attr(uid, "UID");
            a.is = type_attr(valuerep, "IS");
            a.ds_float = type_attr(valuerep, "DSfloat");
            a.multi_value = type_attr(multival, "MultiValue");
            a.config = config.release().ptr();
            a.settings = py::object(py::module_::import("pydicom.config").attr("settings")).release().ptr();
            a.hooks = py::object(hooks.attr("hooks")).release().ptr();
            a.default_vr_hook = py::object(hooks.attr("raw_element_vr")).release().ptr();
            a.default_value_hook = py::object(hooks.attr("raw_element_value")).release().ptr();
            py::dict keywords;
            for (auto item : keyword_tags) {
                PyObject* tag = make_tag(item.second.cast<std::uint32_t>());
                if (!tag) throw py::error_already_set();
                keywords[item.first] = py::reinterpret_steal<py::object>(tag);
            }
            a.keywords = keywords.release().ptr();
            a.ascii_encodings = ascii_encodings.inc_ref().ptr();
            py::object cls = dataset.attr("Dataset");
            a.dataset_getitem = py::object(cls.attr("__getitem__")).release().ptr();
            a.dataset_getattr = py::object(cls.attr("__getattr__")).release().ptr();
            a.str_type = py::object(builtins.attr("str")).release().ptr();
        },
        "Look up pydicom's types once: {keyword: tag value}, the ASCII-compatible codec names.");
    if (PyModule_AddFunctions(m.ptr(), methods) != 0) throw py::error_already_set();
    // Lets a C function serve as a method (bound to the instance like a Python function).
    m.def("as_method", [](py::object func) {
        return py::reinterpret_steal<py::object>(PyInstanceMethod_New(func.ptr()));
    });
}

}  // namespace turbodicom::bindings
