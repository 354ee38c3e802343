// The Protocol Data Units of the DICOM upper layer (PS3.8 section 9.3 and Annex D):
// their fields as plain structs, and encoding to and decoding from bytes. No I/O here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace turbodicom::net {

enum class pdu_type : std::uint8_t {
    associate_rq = 0x01,
    associate_ac = 0x02,
    associate_rj = 0x03,
    p_data_tf = 0x04,
    release_rq = 0x05,
    release_rp = 0x06,
    abort = 0x07,
};

constexpr std::size_t pdu_header_size = 6;  // type, reserved, 4-byte big-endian length

// An item this implementation does not interpret, kept so that it can be reported.
struct unknown_item {
    std::uint8_t type = 0;
    std::vector<std::uint8_t> value;
};

struct presentation_context_rq {
    std::uint8_t id = 1;  // odd, 1..255
    std::string abstract_syntax;
    std::vector<std::string> transfer_syntaxes;
};

// Result/reason (PS3.8 9.3.3.2): 0 acceptance, 1 user-rejection, 2 no-reason (provider
// rejection), 3 abstract syntax not supported, 4 transfer syntaxes not supported.
struct presentation_context_ac {
    std::uint8_t id = 1;
    std::uint8_t result = 0;
    std::string transfer_syntax;  // meaningful only when accepted
};

struct role_selection {  // PS3.7 D.3.3.4
    std::string sop_class_uid;
    bool scu_role = false;
    bool scp_role = false;
};

struct sop_class_extended {  // PS3.7 D.3.3.5
    std::string sop_class_uid;
    std::vector<std::uint8_t> info;
};

struct sop_class_common_extended {  // PS3.7 D.3.3.6
    std::string sop_class_uid;
    std::string service_class_uid;
    std::vector<std::string> related_general_sop_classes;
};

struct user_identity_rq {  // PS3.7 D.3.3.7.1
    std::uint8_t type = 1;  // 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT
    bool positive_response_requested = false;
    std::vector<std::uint8_t> primary;
    std::vector<std::uint8_t> secondary;  // passcode, type 2 only
};

struct user_information {
    std::optional<std::uint32_t> max_length;  // Maximum Length sub-item; 0 means unlimited
    std::string implementation_class_uid;
    std::string implementation_version_name;  // 1..16 characters, or empty for none
    std::optional<std::uint16_t> max_operations_invoked;    // Asynchronous Operations Window
    std::optional<std::uint16_t> max_operations_performed;  // (both set or neither)
    std::vector<role_selection> roles;
    std::vector<sop_class_extended> extended_negotiation;
    std::vector<sop_class_common_extended> common_extended_negotiation;  // RQ only
    std::optional<user_identity_rq> identity_rq;                         // RQ only
    std::optional<std::vector<std::uint8_t>> identity_ac;                // AC only: server response
    std::vector<unknown_item> unknown;
};

struct associate_rq {
    std::uint16_t protocol_version = 1;
    std::string called_ae;   // up to 16 characters, stored without the space padding
    std::string calling_ae;
    std::string application_context = "1.2.840.10008.3.1.1.1";
    std::vector<presentation_context_rq> contexts;
    user_information user;
};

struct associate_ac {
    std::uint16_t protocol_version = 1;
    std::string called_ae;   // echoed from the request (PS3.8 says not tested)
    std::string calling_ae;
    std::string application_context = "1.2.840.10008.3.1.1.1";
    std::vector<presentation_context_ac> contexts;
    user_information user;
};

struct associate_rj {  // PS3.8 9.3.4
    std::uint8_t result = 1;  // 1 permanent, 2 transient
    std::uint8_t source = 1;  // 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation)
    std::uint8_t reason = 1;
};

struct abort_pdu {  // PS3.8 9.3.8
    std::uint8_t source = 0;  // 0 service-user, 2 service-provider
    std::uint8_t reason = 0;  // provider reasons 0..6
};

// One Presentation Data Value of a P-DATA-TF PDU, a view into the PDU's bytes.
struct pdv {
    std::uint8_t context_id = 0;
    bool command = false;  // message control header bit 0
    bool last = false;     // bit 1
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
};

// Limits of the encoded values (PS3.5 table 6.2-1: AE 16 characters, UI 64).
constexpr std::size_t max_ae_title_length = 16;
constexpr std::size_t max_uid_length = 64;
constexpr std::size_t max_implementation_version_name_length = 16;

// True when `title` can be sent as a called or calling AE title: 1 to 16 characters once
// leading and trailing spaces are removed, printable ASCII without backslash (PS3.5 AE).
bool is_valid_ae_title(const std::string& title);

// Encoding: each returns the whole PDU, header included. Throws net_error(bad_pdu) for
// fields that cannot be encoded (an AE title over 16 characters, a UID over 64, ...).
std::vector<std::uint8_t> encode(const associate_rq& pdu);
std::vector<std::uint8_t> encode(const associate_ac& pdu);
std::vector<std::uint8_t> encode(const associate_rj& pdu);
std::vector<std::uint8_t> encode(const abort_pdu& pdu);
std::vector<std::uint8_t> encode_release_rq();
std::vector<std::uint8_t> encode_release_rp();

// Writes the headers of a P-DATA-TF PDU holding one PDV of `data_size` bytes into `out`
// (pdu_header_size + 6 bytes): the caller sends them followed by the data.
constexpr std::size_t p_data_overhead = pdu_header_size + 6;
void write_p_data_header(std::uint8_t* out, std::uint8_t context_id, bool command, bool last,
                         std::uint32_t data_size);

// A whole P-DATA-TF PDU holding the given PDVs in order (PS3.8 9.3.5). Throws
// net_error(too_large) when the PDU length does not fit in 32 bits.
std::vector<std::uint8_t> encode_p_data(const std::vector<pdv>& pdvs);

// Reads the 6-byte header: the type byte (not checked) and the body length.
struct pdu_header {
    std::uint8_t type;
    std::uint32_t length;
};
pdu_header read_header(const std::uint8_t* header);

// Decoding the body of a PDU (the bytes after its 6-byte header). Throws net_error with
// the offset within the body for anything PS3.8 does not allow; unknown user information
// sub-items are kept in `unknown`, as PS3.7 D.3.3 asks receivers to ignore them.
// Tolerated, as real peers send them: non-zero reserved fields (PS3.8 9.3.1 "not tested"),
// items in any order, items of other types in the variable field or in a presentation
// context item (skipped), UIDs and the version name padded with NUL or spaces (stripped),
// AE titles with leading or trailing spaces (stripped; all spaces decodes to "", which
// encode() refuses), a rejected A-ASSOCIATE-AC context without its Transfer Syntax
// sub-item. Errors: truncated when an item overruns its parent or the fixed fields are cut
// short; bad_item for a sub-item of the wrong length or a duplicated singleton, a UID over
// 64 characters, a version name over 16, an RQ context ID that is even or repeated, a
// context without its abstract or transfer syntax, a PDV item length under 2; bad_pdu for a
// missing or repeated Application Context or User Information item, no presentation
// context, no PDV, and a fixed-size body that is longer than 4 bytes.
associate_rq decode_associate_rq(const std::uint8_t* body, std::size_t size);
associate_ac decode_associate_ac(const std::uint8_t* body, std::size_t size);
associate_rj decode_associate_rj(const std::uint8_t* body, std::size_t size);
abort_pdu decode_abort(const std::uint8_t* body, std::size_t size);
void decode_release(const std::uint8_t* body, std::size_t size);  // checks the 4 reserved bytes' length
std::vector<pdv> decode_p_data(const std::uint8_t* body, std::size_t size);

// Field-by-field equality (a pdv compares its data bytes, not where they are).
bool operator==(const unknown_item& a, const unknown_item& b);
bool operator==(const presentation_context_rq& a, const presentation_context_rq& b);
bool operator==(const presentation_context_ac& a, const presentation_context_ac& b);
bool operator==(const role_selection& a, const role_selection& b);
bool operator==(const sop_class_extended& a, const sop_class_extended& b);
bool operator==(const sop_class_common_extended& a, const sop_class_common_extended& b);
bool operator==(const user_identity_rq& a, const user_identity_rq& b);
bool operator==(const user_information& a, const user_information& b);
bool operator==(const associate_rq& a, const associate_rq& b);
bool operator==(const associate_ac& a, const associate_ac& b);
bool operator==(const associate_rj& a, const associate_rj& b);
bool operator==(const abort_pdu& a, const abort_pdu& b);
bool operator==(const pdv& a, const pdv& b);
inline bool operator!=(const unknown_item& a, const unknown_item& b) { return !(a == b); }
inline bool operator!=(const presentation_context_rq& a, const presentation_context_rq& b) { return !(a == b); }
inline bool operator!=(const presentation_context_ac& a, const presentation_context_ac& b) { return !(a == b); }
inline bool operator!=(const role_selection& a, const role_selection& b) { return !(a == b); }
inline bool operator!=(const sop_class_extended& a, const sop_class_extended& b) { return !(a == b); }
inline bool operator!=(const sop_class_common_extended& a, const sop_class_common_extended& b) { return !(a == b); }
inline bool operator!=(const user_identity_rq& a, const user_identity_rq& b) { return !(a == b); }
inline bool operator!=(const user_information& a, const user_information& b) { return !(a == b); }
inline bool operator!=(const associate_rq& a, const associate_rq& b) { return !(a == b); }
inline bool operator!=(const associate_ac& a, const associate_ac& b) { return !(a == b); }
inline bool operator!=(const associate_rj& a, const associate_rj& b) { return !(a == b); }
inline bool operator!=(const abort_pdu& a, const abort_pdu& b) { return !(a == b); }
inline bool operator!=(const pdv& a, const pdv& b) { return !(a == b); }

}  // namespace turbodicom::net
