// Encoding of the upper layer PDUs (PS3.8 9.3) and of the user information sub-items
// (PS3.8 Annex D, PS3.7 D.3.3). Every length is big endian; every item length is checked
// against the 16 bits (items) or 32 bits (PDUs) that carry it.
#include <cstring>
#include <limits>

#include "net/net_error.hpp"
#include "net/pdu.hpp"

namespace turbodicom::net {
namespace {

// Appends big-endian fields to a PDU and fills in item and PDU lengths once known.
class writer {
public:
    std::vector<std::uint8_t> out;

    void u8(std::uint8_t v) { out.push_back(v); }
    void u16(std::uint16_t v) {
        out.push_back(std::uint8_t(v >> 8));
        out.push_back(std::uint8_t(v));
    }
    void u32(std::uint32_t v) {
        u16(std::uint16_t(v >> 16));
        u16(std::uint16_t(v));
    }
    void bytes(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        out.insert(out.end(), p, p + n);
    }
    void zeros(std::size_t n) { out.insert(out.end(), n, 0); }

    // An item or sub-item header (PS3.8 9.3.1): type, reserved (or sub-item version), and a
    // 2-byte length patched by end_item.
    std::size_t begin_item(std::uint8_t type, std::uint8_t second = 0) {
        u8(type);
        u8(second);
        const std::size_t at = out.size();
        u16(0);
        return at;
    }
    void end_item(std::size_t at, const char* what) {
        const std::size_t length = out.size() - at - 2;
        if (length > 0xFFFF) fail(net_errc::bad_pdu, 0, std::string(what) + " longer than 65535 bytes");
        out[at] = std::uint8_t(length >> 8);
        out[at + 1] = std::uint8_t(length);
    }

    // A 2-byte length followed by that many bytes (the fields inside sub-items 0x54..0x59).
    void counted(const void* data, std::size_t n, const char* what) {
        if (n > 0xFFFF) fail(net_errc::bad_pdu, 0, std::string(what) + " longer than 65535 bytes");
        u16(std::uint16_t(n));
        bytes(data, n);
    }

    // A PDU header with its 4-byte length patched by end_pdu.
    void begin_pdu(pdu_type type) {
        u8(std::uint8_t(type));
        u8(0);
        u32(0);
    }
    std::vector<std::uint8_t> end_pdu() {
        const std::size_t length = out.size() - pdu_header_size;
        if (length > std::numeric_limits<std::uint32_t>::max())
            fail(net_errc::too_large, 0, "PDU longer than 2^32-1 bytes");
        for (int i = 0; i < 4; ++i) out[2 + i] = std::uint8_t(length >> (24 - 8 * i));
        return std::move(out);
    }
};

const std::string& checked_uid(const std::string& uid, const char* what) {
    if (uid.size() > max_uid_length)
        fail(net_errc::bad_pdu, 0, std::string(what) + " longer than 64 characters: " + uid.substr(0, 80));
    return uid;
}

void uid_item(writer& w, std::uint8_t type, const std::string& uid, const char* what) {
    checked_uid(uid, what);
    const std::size_t at = w.begin_item(type);
    w.bytes(uid.data(), uid.size());
    w.end_item(at, what);
}

void counted_uid(writer& w, const std::string& uid, const char* what) {
    checked_uid(uid, what);
    w.counted(uid.data(), uid.size(), what);
}

std::string trim_spaces(const std::string& s) {
    std::size_t begin = 0, end = s.size();
    while (begin < end && s[begin] == ' ') ++begin;
    while (end > begin && s[end - 1] == ' ') --end;
    return s.substr(begin, end - begin);
}

// PS3.8 9.3.2: 16 characters, space padded; leading and trailing spaces are not significant.
void ae_title(writer& w, const std::string& title, const char* what) {
    if (!is_valid_ae_title(title))
        fail(net_errc::bad_pdu, 0,
             std::string(what) + " AE title '" + title.substr(0, 40) +
                 "' is not 1 to 16 printable characters without backslash");
    const std::string trimmed = trim_spaces(title);
    w.bytes(trimmed.data(), trimmed.size());
    w.out.insert(w.out.end(), max_ae_title_length - trimmed.size(), ' ');
}

// Whether the user information item of this PDU interprets sub-items of `type`: any other
// type is carried in `unknown`.
bool interpreted_sub_item(std::uint8_t type, bool rq) {
    if (type >= 0x51 && type <= 0x56) return true;
    return rq ? (type == 0x57 || type == 0x58) : type == 0x59;
}

// PS3.8 9.3.2.3 / 9.3.3.3 and PS3.7 D.3.3: sub-items in ascending type order.
void user_information_item(writer& w, const user_information& u, bool rq) {
    if (!rq && (!u.common_extended_negotiation.empty() || u.identity_rq))
        fail(net_errc::bad_pdu, 0, "SOP Class Common Extended Negotiation and User Identity RQ belong to an A-ASSOCIATE-RQ");
    if (rq && u.identity_ac)
        fail(net_errc::bad_pdu, 0, "a User Identity AC sub-item belongs to an A-ASSOCIATE-AC");
    if (u.max_operations_invoked.has_value() != u.max_operations_performed.has_value())
        fail(net_errc::bad_pdu, 0, "Asynchronous Operations Window needs both operation counts");
    if (u.implementation_version_name.size() > max_implementation_version_name_length)
        fail(net_errc::bad_pdu, 0, "Implementation Version Name longer than 16 characters");

    const std::size_t user = w.begin_item(0x50);
    if (u.max_length) {  // PS3.8 D.1.1
        const std::size_t at = w.begin_item(0x51);
        w.u32(*u.max_length);
        w.end_item(at, "Maximum Length");
    }
    if (!u.implementation_class_uid.empty())  // PS3.7 D.3.3.2
        uid_item(w, 0x52, u.implementation_class_uid, "Implementation Class UID");
    if (u.max_operations_invoked) {  // PS3.7 D.3.3.3
        const std::size_t at = w.begin_item(0x53);
        w.u16(*u.max_operations_invoked);
        w.u16(*u.max_operations_performed);
        w.end_item(at, "Asynchronous Operations Window");
    }
    for (const role_selection& r : u.roles) {  // PS3.7 D.3.3.4
        const std::size_t at = w.begin_item(0x54);
        counted_uid(w, r.sop_class_uid, "SCP/SCU Role Selection SOP Class UID");
        w.u8(r.scu_role ? 1 : 0);
        w.u8(r.scp_role ? 1 : 0);
        w.end_item(at, "SCP/SCU Role Selection");
    }
    if (!u.implementation_version_name.empty()) {  // PS3.7 D.3.3.2
        const std::size_t at = w.begin_item(0x55);
        w.bytes(u.implementation_version_name.data(), u.implementation_version_name.size());
        w.end_item(at, "Implementation Version Name");
    }
    for (const sop_class_extended& e : u.extended_negotiation) {  // PS3.7 D.3.3.5
        const std::size_t at = w.begin_item(0x56);
        counted_uid(w, e.sop_class_uid, "SOP Class Extended Negotiation SOP Class UID");
        w.bytes(e.info.data(), e.info.size());
        w.end_item(at, "SOP Class Extended Negotiation");
    }
    for (const sop_class_common_extended& c : u.common_extended_negotiation) {  // PS3.7 D.3.3.6
        const std::size_t at = w.begin_item(0x57, 0);  // sub-item version 0
        counted_uid(w, c.sop_class_uid, "SOP Class Common Extended Negotiation SOP Class UID");
        counted_uid(w, c.service_class_uid, "Service Class UID");
        const std::size_t related = w.out.size();
        w.u16(0);
        for (const std::string& uid : c.related_general_sop_classes)
            counted_uid(w, uid, "Related General SOP Class UID");
        const std::size_t related_length = w.out.size() - related - 2;
        if (related_length > 0xFFFF) fail(net_errc::bad_pdu, 0, "Related General SOP Class list longer than 65535 bytes");
        w.out[related] = std::uint8_t(related_length >> 8);
        w.out[related + 1] = std::uint8_t(related_length);
        w.end_item(at, "SOP Class Common Extended Negotiation");
    }
    if (u.identity_rq) {  // PS3.7 D.3.3.7.1
        const user_identity_rq& id = *u.identity_rq;
        const std::size_t at = w.begin_item(0x58);
        w.u8(id.type);
        w.u8(id.positive_response_requested ? 1 : 0);
        w.counted(id.primary.data(), id.primary.size(), "User Identity primary field");
        w.counted(id.secondary.data(), id.secondary.size(), "User Identity secondary field");
        w.end_item(at, "User Identity");
    }
    if (u.identity_ac) {  // PS3.7 D.3.3.7.2
        const std::size_t at = w.begin_item(0x59);
        w.counted(u.identity_ac->data(), u.identity_ac->size(), "User Identity server response");
        w.end_item(at, "User Identity");
    }
    for (const unknown_item& item : u.unknown) {
        if (interpreted_sub_item(item.type, rq))
            fail(net_errc::bad_pdu, 0, "an unknown user information sub-item has the type of a known one");
        const std::size_t at = w.begin_item(item.type);
        w.bytes(item.value.data(), item.value.size());
        w.end_item(at, "user information sub-item");
    }
    w.end_item(user, "User Information item");
}

// PS3.8 9.3.2 / 9.3.3: the fixed fields shared by A-ASSOCIATE-RQ and -AC.
void associate_fixed(writer& w, pdu_type type, std::uint16_t version, const std::string& called,
                     const std::string& calling, const std::string& application_context) {
    w.begin_pdu(type);
    w.u16(version);
    w.u16(0);
    ae_title(w, called, "called");
    ae_title(w, calling, "calling");
    w.zeros(32);
    uid_item(w, 0x10, application_context, "Application Context Name");
}

}  // namespace

bool is_valid_ae_title(const std::string& title) {
    const std::string trimmed = trim_spaces(title);
    if (trimmed.empty() || trimmed.size() > max_ae_title_length) return false;
    for (char c : trimmed) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7E || c == '\\') return false;
    }
    return true;
}

std::vector<std::uint8_t> encode(const associate_rq& pdu) {
    writer w;
    associate_fixed(w, pdu_type::associate_rq, pdu.protocol_version, pdu.called_ae, pdu.calling_ae,
                    pdu.application_context);
    if (pdu.contexts.empty()) fail(net_errc::bad_pdu, 0, "an A-ASSOCIATE-RQ needs a presentation context");
    bool used[256] = {};
    for (const presentation_context_rq& pc : pdu.contexts) {  // PS3.8 9.3.2.2
        if (pc.id % 2 == 0) fail(net_errc::bad_pdu, 0, "presentation context ID " + std::to_string(pc.id) + " is not odd");
        if (used[pc.id]) fail(net_errc::bad_pdu, 0, "presentation context ID " + std::to_string(pc.id) + " used twice");
        used[pc.id] = true;
        if (pc.transfer_syntaxes.empty())
            fail(net_errc::bad_pdu, 0, "presentation context " + std::to_string(pc.id) + " has no transfer syntax");
        const std::size_t at = w.begin_item(0x20);
        w.u8(pc.id);
        w.zeros(3);
        uid_item(w, 0x30, pc.abstract_syntax, "Abstract Syntax Name");
        for (const std::string& ts : pc.transfer_syntaxes) uid_item(w, 0x40, ts, "Transfer Syntax Name");
        w.end_item(at, "Presentation Context item");
    }
    user_information_item(w, pdu.user, true);
    return w.end_pdu();
}

std::vector<std::uint8_t> encode(const associate_ac& pdu) {
    writer w;
    associate_fixed(w, pdu_type::associate_ac, pdu.protocol_version, pdu.called_ae, pdu.calling_ae,
                    pdu.application_context);
    if (pdu.contexts.empty()) fail(net_errc::bad_pdu, 0, "an A-ASSOCIATE-AC needs a presentation context");
    for (const presentation_context_ac& pc : pdu.contexts) {  // PS3.8 9.3.3.2
        const std::size_t at = w.begin_item(0x21);
        w.u8(pc.id);
        w.u8(0);
        w.u8(pc.result);
        w.u8(0);
        // One Transfer Syntax sub-item always; its value is not significant unless accepted.
        uid_item(w, 0x40, pc.transfer_syntax, "Transfer Syntax Name");
        w.end_item(at, "Presentation Context item");
    }
    user_information_item(w, pdu.user, false);
    return w.end_pdu();
}

std::vector<std::uint8_t> encode(const associate_rj& pdu) {  // PS3.8 9.3.4
    writer w;
    w.begin_pdu(pdu_type::associate_rj);
    w.u8(0);
    w.u8(pdu.result);
    w.u8(pdu.source);
    w.u8(pdu.reason);
    return w.end_pdu();
}

std::vector<std::uint8_t> encode(const abort_pdu& pdu) {  // PS3.8 9.3.8
    writer w;
    w.begin_pdu(pdu_type::abort);
    w.u8(0);
    w.u8(0);
    w.u8(pdu.source);
    w.u8(pdu.reason);
    return w.end_pdu();
}

std::vector<std::uint8_t> encode_release_rq() {  // PS3.8 9.3.6
    return {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
}

std::vector<std::uint8_t> encode_release_rp() {  // PS3.8 9.3.7
    return {0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0};
}

std::vector<std::uint8_t> encode_p_data(const std::vector<pdv>& pdvs) {  // PS3.8 9.3.5
    if (pdvs.empty()) fail(net_errc::bad_pdu, 0, "a P-DATA-TF PDU needs a PDV item");
    writer w;
    w.begin_pdu(pdu_type::p_data_tf);
    for (const pdv& v : pdvs) {
        if (v.size > std::numeric_limits<std::uint32_t>::max() - 2)
            fail(net_errc::too_large, 0, "PDV longer than 2^32-3 bytes");
        w.u32(std::uint32_t(v.size + 2));
        w.u8(v.context_id);
        w.u8(std::uint8_t((v.command ? 1 : 0) | (v.last ? 2 : 0)));  // PS3.8 E.2
        if (v.size) w.bytes(v.data, v.size);
    }
    return w.end_pdu();
}

void write_p_data_header(std::uint8_t* out, std::uint8_t context_id, bool command, bool last,
                         std::uint32_t data_size) {
    if (data_size > std::numeric_limits<std::uint32_t>::max() - 6)
        fail(net_errc::too_large, 0, "PDV longer than 2^32-7 bytes");
    const std::uint32_t pdu_length = data_size + 6;  // PDV item length field + 2 + data
    const std::uint32_t item_length = data_size + 2;  // context ID + control header + data
    out[0] = std::uint8_t(pdu_type::p_data_tf);
    out[1] = 0;
    for (int i = 0; i < 4; ++i) out[2 + i] = std::uint8_t(pdu_length >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) out[6 + i] = std::uint8_t(item_length >> (24 - 8 * i));
    out[10] = context_id;
    out[11] = std::uint8_t((command ? 1 : 0) | (last ? 2 : 0));
}

}  // namespace turbodicom::net
