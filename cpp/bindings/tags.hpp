// One BaseTag object per tag value, shared by every dataset built here: dict
// lookups then match by identity instead of calling BaseTag.__eq__ (Python).
#pragma once
#include <Python.h>
#include <cstdint>

namespace turbodicom::bindings {

// A new reference to the shared pydicom BaseTag for `tag`, or nullptr with an error set.
PyObject* make_tag(std::uint32_t tag);

}  // namespace turbodicom::bindings
