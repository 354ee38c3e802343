// The DICOM data dictionary lookup. The tables are generated into
// dictionary_data.inc by tools/gen_dictionary.py.
#include "core/dictionary.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace turbodicom::core {
namespace {

#include "core/dictionary_data.inc"

}  // namespace

const dict_entry* dictionary_lookup(std::uint32_t tag) noexcept {
    // Exact entries first (pydicom: DicomDictionary[tag]).
    const dict_entry* first = std::begin(kExactEntries);
    const dict_entry* last = std::end(kExactEntries);
    const dict_entry* it = std::lower_bound(
        first, last, tag, [](const dict_entry& e, std::uint32_t t) { return e.tag < t; });
    if (it != last && it->tag == tag) return it;

    // Then the repeating groups, but only for even (non-private) groups, as in
    // pydicom.datadict._dictionary_vr_fast / get_entry. mask_match returns the
    // first matching mask in RepeatersDictionary's order, which the generator
    // preserves: (tag ^ mask1) & mask2 == 0, where mask1 is our `tag` field.
    if (((tag >> 16) & 1u) == 0) {
        for (const dict_entry& e : kRepeaterEntries) {
            if (((tag ^ e.tag) & e.mask) == 0) return &e;
        }
    }
    return nullptr;
}

std::uint16_t dictionary_vr(std::uint32_t tag) noexcept {
    const dict_entry* e = dictionary_lookup(tag);
    if (e == nullptr || e->vr[0] == '\0' || e->vr[1] == '\0') return 0;
    return static_cast<std::uint16_t>(
        (static_cast<unsigned>(static_cast<unsigned char>(e->vr[0])) << 8) |
        static_cast<unsigned char>(e->vr[1]));
}

}  // namespace turbodicom::core
