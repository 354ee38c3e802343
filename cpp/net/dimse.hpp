// DIMSE command sets (PS3.7 section 9 and 10): group 0000 elements, always Implicit VR
// Little Endian whatever the negotiated transfer syntax. A command set is a small ordered
// list of elements; the helpers build and read the ones of C-ECHO and C-STORE.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace turbodicom::net::dimse {

// Command Field values (PS3.7 E.1). Scoped, so that the enumerators do not clash with the
// functions below that build the same messages: command_field::c_echo_rq vs c_echo_rq().
enum class command_field : std::uint16_t {
    c_store_rq = 0x0001, c_store_rsp = 0x8001,
    c_get_rq = 0x0010, c_get_rsp = 0x8010,
    c_find_rq = 0x0020, c_find_rsp = 0x8020,
    c_move_rq = 0x0021, c_move_rsp = 0x8021,
    c_echo_rq = 0x0030, c_echo_rsp = 0x8030,
    c_cancel_rq = 0x0FFF,
};

constexpr std::uint16_t no_dataset = 0x0101;  // Command Data Set Type: no data set follows
constexpr std::uint16_t has_dataset = 0x0001; // any other value means a data set follows;
                                               // 0x0001 is what DCMTK and pynetdicom send

// Command tags (element numbers in group 0000).
enum command_tag : std::uint32_t {
    affected_sop_class_uid = 0x00000002,
    requested_sop_class_uid = 0x00000003,
    command_field_tag = 0x00000100,
    message_id = 0x00000110,
    message_id_being_responded_to = 0x00000120,
    move_destination = 0x00000600,
    priority = 0x00000700,
    command_data_set_type = 0x00000800,
    status = 0x00000900,
    offending_element = 0x00000901,
    error_comment = 0x00000902,
    error_id = 0x00000903,
    affected_sop_instance_uid = 0x00001000,
    requested_sop_instance_uid = 0x00001001,
    number_of_remaining_suboperations = 0x00001020,
    number_of_completed_suboperations = 0x00001021,
    number_of_failed_suboperations = 0x00001022,
    number_of_warning_suboperations = 0x00001023,
    move_originator_application_entity_title = 0x00001030,
    move_originator_message_id = 0x00001031,
};

// One element of a command set: its tag and its value bytes as they are on the wire
// (UI padded with NUL to even length, AE/LO/SH padded with a space, US/UL little endian).
struct element {
    std::uint32_t tag = 0;
    std::vector<std::uint8_t> value;
};

// A command set in tag order. Group Length (0000,0000) is computed when encoding and
// not kept when decoding.
struct command_set {
    std::vector<element> elements;

    // Setters keep the elements sorted by tag and replace an existing one.
    void set_us(std::uint32_t tag, std::uint16_t value);
    void set_us(std::uint32_t tag, command_field value) { set_us(tag, static_cast<std::uint16_t>(value)); }
    void set_ul(std::uint32_t tag, std::uint32_t value);
    void set_uid(std::uint32_t tag, const std::string& uid);   // pads with NUL to even length
    void set_text(std::uint32_t tag, const std::string& text); // AE/LO/SH/ST: pads with a space
    void set_bytes(std::uint32_t tag, std::vector<std::uint8_t> value);  // as given (AT, OB ...)

    const element* find(std::uint32_t tag) const;
    std::optional<std::uint16_t> us(std::uint32_t tag) const;  // nullopt when absent or not 2 bytes
    std::optional<std::uint32_t> ul(std::uint32_t tag) const;
    std::optional<std::string> text(std::uint32_t tag) const;  // trailing NUL and spaces stripped

    bool dataset_follows() const;  // Command Data Set Type present and != 0x0101
};

// Encodes with the Group Length element first, Implicit VR Little Endian.
std::vector<std::uint8_t> encode(const command_set& command);

// Decodes a whole command set; throws net_error(bad_pdu) when an element runs past the end,
// when a tag is outside group 0000, when a leading Group Length is not 4 bytes or does not
// equal the size of the rest, or when the set has no 2-byte Command Field. Limits: at most
// 256 elements, values at most 64 KiB each. Unknown tags are kept; elements out of order
// are sorted (a stable sort, so a repeated tag's first value is the one find() returns).
command_set decode(const std::uint8_t* data, std::size_t size);

// The messages of C-ECHO and C-STORE (PS3.7 9.3.1, 9.3.5).
command_set c_echo_rq(std::uint16_t message_id, const std::string& sop_class = "1.2.840.10008.1.1");
command_set c_echo_rsp(std::uint16_t responding_to, std::uint16_t status,
                       const std::string& sop_class = "1.2.840.10008.1.1");
command_set c_store_rq(std::uint16_t message_id, const std::string& sop_class, const std::string& sop_instance,
                       std::uint16_t priority = 0, const std::string& move_originator_ae = "",
                       std::optional<std::uint16_t> move_originator_id = std::nullopt);
command_set c_store_rsp(std::uint16_t responding_to, std::uint16_t status, const std::string& sop_class,
                        const std::string& sop_instance);

}  // namespace turbodicom::net::dimse
