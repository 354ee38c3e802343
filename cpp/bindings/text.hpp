// Text helpers of the Python converters: the shared rules of core/text.hpp,
// and Latin-1 text as a Python str.
#pragma once
#include <Python.h>

#include "core/text.hpp"

namespace turbodicom::bindings {

using core::rstrip_space_nul;
using core::split_backslash;
using core::strip_ws;
using core::valid_ds;
using core::valid_is;
using core::valid_uid;

inline PyObject* new_str(const char* b, const char* e) { return PyUnicode_DecodeLatin1(b, e - b, nullptr); }

}  // namespace turbodicom::bindings
