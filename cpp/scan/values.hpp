// Decoding of raw element values into plain values (numbers, text, bytes,
// lists of them), following pydicom's converters, on the scanning threads.
// What depends on a character set or on pydicom's rules for odd VRs is left
// marked for Python to convert.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "scan/scan.hpp"

namespace turbodicom::scan {

enum class charset_kind {
    none,    // no Specific Character Set: text is Latin-1, as pydicom's default
    ascii,   // a character set that decodes 7-bit text as ASCII
    other,   // anything else: text must be decoded by pydicom
};

// Text and bytes go to the end of `pool`, which cells refer to by offset.
cell decode(const found_value& v, int pixel_representation, charset_kind charset, std::string& pool);

}  // namespace turbodicom::scan
