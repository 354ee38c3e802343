// Decoding of the upper layer PDU bodies (PS3.8 9.3) and of the user information
// sub-items (PS3.8 Annex D, PS3.7 D.3.3).
//
// Strict where the structure is broken: every item must fit inside its parent, fixed-size
// items must have their size, mandatory items must be there. Tolerant where real peers
// differ: reserved fields are not tested (PS3.8 9.3.1), items may come in any order,
// items of types this PDU does not define are skipped (user information sub-items are kept
// in `unknown`), UIDs padded with NUL or space are accepted. Offsets in errors are from the
// start of the body. Nothing is allocated from a length that has not been checked against
// the bytes that remain.
#include <cstring>

#include "net/net_error.hpp"
#include "net/pdu.hpp"

namespace turbodicom::net {
namespace {

std::uint16_t load_u16(const std::uint8_t* p) { return std::uint16_t(p[0] << 8 | p[1]); }
std::uint32_t load_u32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// An item or sub-item (PS3.8 9.3.1): type at `at`, value from `value` for `length` bytes.
struct item {
    std::uint8_t type;
    std::size_t at;
    std::size_t value;
    std::size_t length;
    std::size_t end() const { return value + length; }
};

std::string hex(std::uint8_t v) {
    static const char digits[] = "0123456789ABCDEF";
    return std::string("0x") + digits[v >> 4] + digits[v & 15];
}

// Reads the item header at `pos`, checking that the item ends by `end`.
item next_item(const std::uint8_t* b, std::size_t pos, std::size_t end, const char* parent) {
    if (end - pos < 4) fail(net_errc::truncated, pos, std::string("item header cut short in ") + parent);
    const std::size_t length = load_u16(b + pos + 2);
    if (length > end - pos - 4)
        fail(net_errc::truncated, pos,
             "item of type " + hex(b[pos]) + " with length " + std::to_string(length) +
                 " overruns " + parent);
    return {b[pos], pos, pos + 4, length};
}

// A UID value (PS3.8 9.3.2.1 and friends): some peers pad to an even length with NUL, or
// with a space as in a dataset; neither is part of the UID.
std::string read_uid(const std::uint8_t* b, std::size_t at, std::size_t pos, std::size_t length,
                     const char* what) {
    while (length > 0 && (b[pos + length - 1] == 0 || b[pos + length - 1] == ' ')) --length;
    if (length > max_uid_length)
        fail(net_errc::bad_item, at, std::string(what) + " longer than 64 characters");
    return std::string(reinterpret_cast<const char*>(b + pos), length);
}

// PS3.8 9.3.2: leading and trailing spaces are not significant.
std::string read_ae(const std::uint8_t* b, std::size_t pos) {
    std::size_t begin = pos, end = pos + max_ae_title_length;
    while (begin < end && b[begin] == ' ') ++begin;
    while (end > begin && b[end - 1] == ' ') --end;
    return std::string(reinterpret_cast<const char*>(b + begin), end - begin);
}

// Reads a 2-byte length and the bytes it counts, all inside [pos, end) of the sub-item at
// `at`; advances pos.
std::size_t counted(const std::uint8_t* b, std::size_t at, std::size_t& pos, std::size_t end,
                    const char* what) {
    if (end - pos < 2) fail(net_errc::bad_item, at, std::string(what) + " length cut short");
    const std::size_t n = load_u16(b + pos);
    pos += 2;
    if (n > end - pos) fail(net_errc::bad_item, at, std::string(what) + " overruns its sub-item");
    const std::size_t start = pos;
    pos += n;
    return start;
}

std::string counted_uid(const std::uint8_t* b, std::size_t at, std::size_t& pos, std::size_t end,
                        const char* what) {
    const std::size_t start = counted(b, at, pos, end, what);
    return read_uid(b, at, start, pos - start, what);
}

std::vector<std::uint8_t> counted_bytes(const std::uint8_t* b, std::size_t at, std::size_t& pos,
                                        std::size_t end, const char* what) {
    const std::size_t start = counted(b, at, pos, end, what);
    return std::vector<std::uint8_t>(b + start, b + pos);
}

void expect_end(std::size_t pos, const item& it, const char* what) {
    if (pos != it.end()) fail(net_errc::bad_item, it.at, std::string(what) + " sub-item has bytes past its fields");
}

void once(bool& seen, const item& it, const char* what) {
    if (seen) fail(net_errc::bad_item, it.at, std::string("a second ") + what + " sub-item");
    seen = true;
}

// PS3.8 9.3.2.3 / 9.3.3.3, Annex D; PS3.7 D.3.3.
user_information decode_user_information(const std::uint8_t* b, const item& parent, bool rq) {
    user_information u;
    bool seen_uid = false, seen_version = false, seen_async = false;
    for (std::size_t pos = parent.value; pos < parent.end();) {
        const item it = next_item(b, pos, parent.end(), "the User Information item");
        pos = it.end();
        const std::uint8_t* v = b + it.value;
        std::size_t p = it.value;
        switch (it.type) {
            case 0x51:  // Maximum Length, PS3.8 D.1.1
                if (u.max_length) fail(net_errc::bad_item, it.at, "a second Maximum Length sub-item");
                if (it.length != 4) fail(net_errc::bad_item, it.at, "Maximum Length sub-item length is not 4");
                u.max_length = load_u32(v);
                continue;
            case 0x52:  // Implementation Class UID, PS3.7 D.3.3.2
                once(seen_uid, it, "Implementation Class UID");
                u.implementation_class_uid = read_uid(b, it.at, it.value, it.length, "Implementation Class UID");
                continue;
            case 0x53:  // Asynchronous Operations Window, PS3.7 D.3.3.3
                once(seen_async, it, "Asynchronous Operations Window");
                if (it.length != 4) fail(net_errc::bad_item, it.at, "Asynchronous Operations Window length is not 4");
                u.max_operations_invoked = load_u16(v);
                u.max_operations_performed = load_u16(v + 2);
                continue;
            case 0x54: {  // SCP/SCU Role Selection, PS3.7 D.3.3.4
                role_selection r;
                r.sop_class_uid = counted_uid(b, it.at, p, it.end(), "SCP/SCU Role Selection SOP Class UID");
                if (it.end() - p < 2) fail(net_errc::bad_item, it.at, "SCP/SCU Role Selection roles cut short");
                r.scu_role = b[p] != 0;
                r.scp_role = b[p + 1] != 0;
                expect_end(p + 2, it, "SCP/SCU Role Selection");
                u.roles.push_back(std::move(r));
                continue;
            }
            case 0x55: {  // Implementation Version Name, PS3.7 D.3.3.2
                once(seen_version, it, "Implementation Version Name");
                std::size_t n = it.length;
                while (n > 0 && (v[n - 1] == 0 || v[n - 1] == ' ')) --n;
                if (n > max_implementation_version_name_length)
                    fail(net_errc::bad_item, it.at, "Implementation Version Name longer than 16 characters");
                u.implementation_version_name.assign(reinterpret_cast<const char*>(v), n);
                continue;
            }
            case 0x56: {  // SOP Class Extended Negotiation, PS3.7 D.3.3.5
                sop_class_extended e;
                e.sop_class_uid = counted_uid(b, it.at, p, it.end(), "SOP Class Extended Negotiation SOP Class UID");
                e.info.assign(b + p, b + it.end());
                u.extended_negotiation.push_back(std::move(e));
                continue;
            }
            case 0x57:  // SOP Class Common Extended Negotiation, PS3.7 D.3.3.6 (RQ only)
                if (!rq) break;
                {
                    sop_class_common_extended c;
                    c.sop_class_uid = counted_uid(b, it.at, p, it.end(), "SOP Class Common Extended Negotiation SOP Class UID");
                    c.service_class_uid = counted_uid(b, it.at, p, it.end(), "Service Class UID");
                    const std::size_t related = counted(b, it.at, p, it.end(), "Related General SOP Class list");
                    expect_end(p, it, "SOP Class Common Extended Negotiation");
                    for (std::size_t q = related; q < p;)
                        c.related_general_sop_classes.push_back(
                            counted_uid(b, it.at, q, p, "Related General SOP Class UID"));
                    u.common_extended_negotiation.push_back(std::move(c));
                }
                continue;
            case 0x58:  // User Identity RQ, PS3.7 D.3.3.7.1 (RQ only)
                if (!rq) break;
                {
                    if (u.identity_rq) fail(net_errc::bad_item, it.at, "a second User Identity sub-item");
                    if (it.length < 2) fail(net_errc::bad_item, it.at, "User Identity sub-item cut short");
                    user_identity_rq id;
                    id.type = v[0];
                    id.positive_response_requested = v[1] != 0;
                    p += 2;
                    id.primary = counted_bytes(b, it.at, p, it.end(), "User Identity primary field");
                    id.secondary = counted_bytes(b, it.at, p, it.end(), "User Identity secondary field");
                    expect_end(p, it, "User Identity");
                    u.identity_rq = std::move(id);
                }
                continue;
            case 0x59:  // User Identity AC, PS3.7 D.3.3.7.2 (AC only)
                if (rq) break;
                if (u.identity_ac) fail(net_errc::bad_item, it.at, "a second User Identity sub-item");
                u.identity_ac = counted_bytes(b, it.at, p, it.end(), "User Identity server response");
                expect_end(p, it, "User Identity");
                continue;
            default:
                break;
        }
        // PS3.7 D.3.3: a sub-item the receiver does not support is ignored; kept for reporting.
        u.unknown.push_back(unknown_item{it.type, std::vector<std::uint8_t>(v, v + it.length)});
    }
    return u;
}

// PS3.8 9.3.2.2.
presentation_context_rq decode_context_rq(const std::uint8_t* b, const item& it) {
    if (it.length < 4) fail(net_errc::bad_item, it.at, "Presentation Context item shorter than 4 bytes");
    presentation_context_rq pc;
    pc.id = b[it.value];
    if (pc.id % 2 == 0)
        fail(net_errc::bad_item, it.at, "presentation context ID " + std::to_string(pc.id) + " is not odd");
    bool has_abstract = false;
    for (std::size_t pos = it.value + 4; pos < it.end();) {
        const item sub = next_item(b, pos, it.end(), "a Presentation Context item");
        pos = sub.end();
        if (sub.type == 0x30) {
            once(has_abstract, sub, "Abstract Syntax");
            pc.abstract_syntax = read_uid(b, sub.at, sub.value, sub.length, "Abstract Syntax Name");
        } else if (sub.type == 0x40) {
            pc.transfer_syntaxes.push_back(read_uid(b, sub.at, sub.value, sub.length, "Transfer Syntax Name"));
        }
    }
    if (!has_abstract) fail(net_errc::bad_item, it.at, "Presentation Context item without an Abstract Syntax sub-item");
    if (pc.transfer_syntaxes.empty())
        fail(net_errc::bad_item, it.at, "Presentation Context item without a Transfer Syntax sub-item");
    return pc;
}

// PS3.8 9.3.3.2: the Transfer Syntax sub-item is not significant unless the context is
// accepted, so a rejected context may lack it; a second one is ignored.
presentation_context_ac decode_context_ac(const std::uint8_t* b, const item& it) {
    if (it.length < 4) fail(net_errc::bad_item, it.at, "Presentation Context item shorter than 4 bytes");
    presentation_context_ac pc;
    pc.id = b[it.value];
    pc.result = b[it.value + 2];
    bool has_transfer = false;
    for (std::size_t pos = it.value + 4; pos < it.end();) {
        const item sub = next_item(b, pos, it.end(), "a Presentation Context item");
        pos = sub.end();
        if (sub.type == 0x40 && !has_transfer) {
            has_transfer = true;
            pc.transfer_syntax = read_uid(b, sub.at, sub.value, sub.length, "Transfer Syntax Name");
        }
    }
    if (pc.result == 0 && !has_transfer)
        fail(net_errc::bad_item, it.at, "accepted Presentation Context item without a Transfer Syntax sub-item");
    return pc;
}

// The fixed fields and the variable items of A-ASSOCIATE-RQ / -AC (PS3.8 9.3.2, 9.3.3).
constexpr std::size_t associate_fixed_size = 68;

template <class Pdu, class DecodeContext>
Pdu decode_associate(const std::uint8_t* b, std::size_t size, bool rq, std::uint8_t context_type,
                     DecodeContext decode_context) {
    const char* name = rq ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC";
    if (size < associate_fixed_size)
        fail(net_errc::truncated, size, std::string(name) + " shorter than its 68 bytes of fixed fields");
    Pdu pdu;
    pdu.protocol_version = load_u16(b);
    pdu.called_ae = read_ae(b, 4);
    pdu.calling_ae = read_ae(b, 20);
    bool has_context_name = false, has_user = false;
    bool used[256] = {};
    for (std::size_t pos = associate_fixed_size; pos < size;) {
        const item it = next_item(b, pos, size, name);
        pos = it.end();
        if (it.type == 0x10) {
            if (has_context_name) fail(net_errc::bad_pdu, it.at, "a second Application Context item");
            has_context_name = true;
            pdu.application_context = read_uid(b, it.at, it.value, it.length, "Application Context Name");
        } else if (it.type == context_type) {
            auto pc = decode_context(b, it);
            if (rq) {  // PS3.8 9.3.2.2: IDs are unique within the association
                if (used[pc.id])
                    fail(net_errc::bad_item, it.at, "presentation context ID " + std::to_string(pc.id) + " used twice");
                used[pc.id] = true;
            }
            pdu.contexts.push_back(std::move(pc));
        } else if (it.type == 0x50) {
            if (has_user) fail(net_errc::bad_pdu, it.at, "a second User Information item");
            has_user = true;
            pdu.user = decode_user_information(b, it, rq);
        }
        // Any other item type is skipped.
    }
    if (!has_context_name) fail(net_errc::bad_pdu, size, std::string(name) + " without an Application Context item");
    if (pdu.contexts.empty()) fail(net_errc::bad_pdu, size, std::string(name) + " without a Presentation Context item");
    if (!has_user) fail(net_errc::bad_pdu, size, std::string(name) + " without a User Information item");
    return pdu;
}

// The 4-byte bodies of A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT.
void expect_size(std::size_t size, const char* name) {
    if (size != 4)
        fail(size < 4 ? net_errc::truncated : net_errc::bad_pdu, size < 4 ? size : 4,
             std::string(name) + " body length " + std::to_string(size) + " is not 4");
}

}  // namespace

associate_rq decode_associate_rq(const std::uint8_t* body, std::size_t size) {
    return decode_associate<associate_rq>(body, size, true, 0x20, decode_context_rq);
}

associate_ac decode_associate_ac(const std::uint8_t* body, std::size_t size) {
    return decode_associate<associate_ac>(body, size, false, 0x21, decode_context_ac);
}

associate_rj decode_associate_rj(const std::uint8_t* body, std::size_t size) {  // PS3.8 9.3.4
    expect_size(size, "A-ASSOCIATE-RJ");
    associate_rj pdu;
    pdu.result = body[1];
    pdu.source = body[2];
    pdu.reason = body[3];
    return pdu;
}

abort_pdu decode_abort(const std::uint8_t* body, std::size_t size) {  // PS3.8 9.3.8
    expect_size(size, "A-ABORT");
    abort_pdu pdu;
    pdu.source = body[2];
    pdu.reason = body[3];
    return pdu;
}

void decode_release(const std::uint8_t*, std::size_t size) {  // PS3.8 9.3.6, 9.3.7
    expect_size(size, "A-RELEASE");
}

std::vector<pdv> decode_p_data(const std::uint8_t* body, std::size_t size) {  // PS3.8 9.3.5
    if (size == 0) fail(net_errc::bad_pdu, 0, "P-DATA-TF without a PDV item");
    std::vector<pdv> out;
    for (std::size_t pos = 0; pos < size;) {
        if (size - pos < 4) fail(net_errc::truncated, pos, "PDV item length cut short");
        const std::uint32_t length = load_u32(body + pos);
        if (length < 2) fail(net_errc::bad_item, pos, "PDV item length " + std::to_string(length) + " is under 2");
        if (length > size - pos - 4)
            fail(net_errc::truncated, pos, "PDV item length " + std::to_string(length) + " overruns the PDU");
        pdv v;
        v.context_id = body[pos + 4];
        const std::uint8_t header = body[pos + 5];  // PS3.8 E.2: bits 2-7 not tested
        v.command = (header & 1) != 0;
        v.last = (header & 2) != 0;
        v.data = body + pos + 6;
        v.size = length - 2;
        out.push_back(v);
        pos += 4 + std::size_t(length);
    }
    return out;
}

pdu_header read_header(const std::uint8_t* header) { return {header[0], load_u32(header + 2)}; }

}  // namespace turbodicom::net
