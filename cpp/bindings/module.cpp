// The compiled module: one register_<area>() per binding file.
#include <pybind11/pybind11.h>

namespace turbodicom::bindings {
void register_parse(pybind11::module_& m);
void register_convert(pybind11::module_& m);
void register_scan(pybind11::module_& m);
void register_pixels(pybind11::module_& m);
void register_net(pybind11::module_& m);
}

PYBIND11_MODULE(_core, m) {
    m.doc() = "turbodicom's C++ core (private: use the turbodicom package)";
    turbodicom::bindings::register_parse(m);
    turbodicom::bindings::register_convert(m);
    turbodicom::bindings::register_scan(m);
    turbodicom::bindings::register_pixels(m);
    turbodicom::bindings::register_net(m);
}
