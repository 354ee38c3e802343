// The File Meta Information of a Part 10 file (PS3.10 7.1), read just far enough to send the
// file's data set as it is stored: where the data set starts, the SOP Class and Instance
// UIDs and the transfer syntax. Untrusted input: every length is checked against the bytes
// given, and anything unusual answers "not usable" (the caller then reads the file fully).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace turbodicom::net {

struct part10_meta {
    std::uint64_t dataset_offset = 0;  // the first byte after group 0002
    std::string sop_class;             // (0002,0002), trailing NUL and spaces removed
    std::string sop_instance;          // (0002,0003)
    std::string transfer_syntax;       // (0002,0010)
};

// Reads the meta group from the first `size` bytes of a file. nullopt when there is no
// 'DICM' prefix at 128, when an element has an undefined length or runs past `size`, when
// the group does not end within `size`, or when one of the three UIDs is missing, empty or
// not printable ASCII. Explicit VR Little Endian: OB, OW, OF, SQ, UT and UN elements have a
// 4-byte length, the others a 2-byte one (as PS3.10 writes the group).
std::optional<part10_meta> read_part10_meta(const std::uint8_t* data, std::size_t size);

}  // namespace turbodicom::net
