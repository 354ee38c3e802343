// Classes of value representations (PS3.5 6.2, 7.1.2) as the reader and the
// converters need them, for VRs packed with vr_code().
#pragma once
#include <cstdint>

#include "parse/element_index.hpp"

namespace turbodicom::parse {

// The two-character VRs of PS3.5 6.2 (and pydicom's converters).
inline bool is_known_vr(std::uint16_t vr) {
    switch (vr) {
        case vr_code('A', 'E'): case vr_code('A', 'S'): case vr_code('A', 'T'): case vr_code('C', 'S'):
        case vr_code('D', 'A'): case vr_code('D', 'S'): case vr_code('D', 'T'): case vr_code('F', 'D'):
        case vr_code('F', 'L'): case vr_code('I', 'S'): case vr_code('L', 'O'): case vr_code('L', 'T'):
        case vr_code('O', 'B'): case vr_code('O', 'D'): case vr_code('O', 'F'): case vr_code('O', 'L'):
        case vr_code('O', 'V'): case vr_code('O', 'W'): case vr_code('P', 'N'): case vr_code('S', 'H'):
        case vr_code('S', 'L'): case vr_code('S', 'Q'): case vr_code('S', 'S'): case vr_code('S', 'T'):
        case vr_code('S', 'V'): case vr_code('T', 'M'): case vr_code('U', 'C'): case vr_code('U', 'I'):
        case vr_code('U', 'L'): case vr_code('U', 'N'): case vr_code('U', 'R'): case vr_code('U', 'S'):
        case vr_code('U', 'T'): case vr_code('U', 'V'):
            return true;
        default:
            return false;
    }
}

// Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
inline bool has_long_length(std::uint16_t vr) {
    switch (vr) {
        case vr_code('O', 'B'): case vr_code('O', 'D'): case vr_code('O', 'F'): case vr_code('O', 'L'):
        case vr_code('O', 'V'): case vr_code('O', 'W'): case vr_code('S', 'Q'): case vr_code('S', 'V'):
        case vr_code('U', 'C'): case vr_code('U', 'N'): case vr_code('U', 'R'): case vr_code('U', 'T'):
        case vr_code('U', 'V'):
            return true;
        default:
            return false;
    }
}

// The VRs whose values pydicom decodes as strings (its STR_VR).
inline bool is_string_vr(std::uint16_t vr) {
    switch (vr) {
        case vr_code('A', 'E'): case vr_code('A', 'S'): case vr_code('C', 'S'): case vr_code('D', 'A'):
        case vr_code('D', 'S'): case vr_code('D', 'T'): case vr_code('I', 'S'): case vr_code('L', 'O'):
        case vr_code('L', 'T'): case vr_code('P', 'N'): case vr_code('S', 'H'): case vr_code('S', 'T'):
        case vr_code('T', 'M'): case vr_code('U', 'C'): case vr_code('U', 'I'): case vr_code('U', 'R'):
        case vr_code('U', 'T'):
            return true;
        default:
            return false;
    }
}

// String VRs whose empty raw value is b"" rather than None: DS and IS are
// numbers to pydicom (its empty_value_for_VR).
inline bool empty_is_bytes(std::uint16_t vr) {
    return is_string_vr(vr) && vr != vr_code('D', 'S') && vr != vr_code('I', 'S');
}

}  // namespace turbodicom::parse
