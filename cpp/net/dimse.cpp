// DIMSE command sets (PS3.7 section 9.3, Annex E): encoding and decoding of group 0000
// in Implicit VR Little Endian, and the command sets of C-ECHO and C-STORE.
#include "net/dimse.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "net/net_error.hpp"

namespace turbodicom::net::dimse {

namespace {

constexpr std::size_t element_header = 8;  // group, element (2 bytes each), 4-byte length
constexpr std::size_t max_elements = 256;
constexpr std::size_t max_value = 64 * 1024;

std::uint32_t load_le32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

void store_le16(std::uint8_t* p, std::uint16_t v) {
    p[0] = std::uint8_t(v);
    p[1] = std::uint8_t(v >> 8);
}

void store_le32(std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v);
    p[1] = std::uint8_t(v >> 8);
    p[2] = std::uint8_t(v >> 16);
    p[3] = std::uint8_t(v >> 24);
}

std::string tag_name(std::uint32_t tag) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "(%04X,%04X)", unsigned(tag >> 16), unsigned(tag & 0xFFFF));
    return buf;
}

// Tag order within group 0000 is element order; the group is always 0 here.
bool tag_less(const element& e, std::uint32_t tag) { return e.tag < tag; }

}  // namespace

void command_set::set_bytes(std::uint32_t tag, std::vector<std::uint8_t> value) {
    auto it = std::lower_bound(elements.begin(), elements.end(), tag, tag_less);
    if (it != elements.end() && it->tag == tag) {
        it->value = std::move(value);
    } else {
        elements.insert(it, element{tag, std::move(value)});
    }
}

void command_set::set_us(std::uint32_t tag, std::uint16_t value) {
    std::vector<std::uint8_t> v(2);
    store_le16(v.data(), value);
    set_bytes(tag, std::move(v));
}

void command_set::set_ul(std::uint32_t tag, std::uint32_t value) {
    std::vector<std::uint8_t> v(4);
    store_le32(v.data(), value);
    set_bytes(tag, std::move(v));
}

// UI values are padded with a single NUL to an even length (PS3.5 6.2, 9.1).
void command_set::set_uid(std::uint32_t tag, const std::string& uid) {
    std::vector<std::uint8_t> v(uid.begin(), uid.end());
    if (v.size() % 2) v.push_back(0);
    set_bytes(tag, std::move(v));
}

// AE, LO, SH and ST values are padded with a trailing space (PS3.5 6.2).
void command_set::set_text(std::uint32_t tag, const std::string& text) {
    std::vector<std::uint8_t> v(text.begin(), text.end());
    if (v.size() % 2) v.push_back(' ');
    set_bytes(tag, std::move(v));
}

const element* command_set::find(std::uint32_t tag) const {
    // Decoded sets are sorted too (decode sorts them), so a binary search is enough; a
    // duplicated tag yields its first occurrence.
    auto it = std::lower_bound(elements.begin(), elements.end(), tag, tag_less);
    return it != elements.end() && it->tag == tag ? &*it : nullptr;
}

std::optional<std::uint16_t> command_set::us(std::uint32_t tag) const {
    const element* e = find(tag);
    if (!e || e->value.size() != 2) return std::nullopt;
    return std::uint16_t(e->value[0] | e->value[1] << 8);
}

std::optional<std::uint32_t> command_set::ul(std::uint32_t tag) const {
    const element* e = find(tag);
    if (!e || e->value.size() != 4) return std::nullopt;
    return load_le32(e->value.data());
}

std::optional<std::string> command_set::text(std::uint32_t tag) const {
    const element* e = find(tag);
    if (!e) return std::nullopt;
    std::size_t n = e->value.size();
    while (n > 0 && (e->value[n - 1] == 0 || e->value[n - 1] == ' ')) --n;
    return std::string(e->value.begin(), e->value.begin() + std::ptrdiff_t(n));
}

// PS3.7 E.1: "0101H indicates that no Data Set is present; any other value indicates
// that a Data Set is present".
bool command_set::dataset_follows() const {
    auto type = us(command_data_set_type);
    return type && *type != no_dataset;
}

std::vector<std::uint8_t> encode(const command_set& command) {
    std::size_t rest = 0;
    for (const element& e : command.elements) {
        if (e.tag == 0) continue;  // Group Length is computed here
        rest += element_header + e.value.size();
    }
    if (rest > 0xFFFFFFFFu) fail(net_errc::too_large, 0, "command set over 4 GiB");
    std::vector<std::uint8_t> out(element_header + 4 + rest);
    std::uint8_t* p = out.data();
    store_le32(p, 0);  // (0000,0000)
    store_le32(p + 4, 4);
    store_le32(p + 8, std::uint32_t(rest));
    p += 12;
    for (const element& e : command.elements) {
        if (e.tag == 0) continue;
        store_le16(p, 0);
        store_le16(p + 2, std::uint16_t(e.tag & 0xFFFF));
        store_le32(p + 4, std::uint32_t(e.value.size()));
        p += element_header;
        if (!e.value.empty()) std::copy(e.value.begin(), e.value.end(), p);
        p += e.value.size();
    }
    return out;
}

command_set decode(const std::uint8_t* data, std::size_t size) {
    command_set out;
    std::size_t pos = 0;
    bool sorted = true;
    while (pos < size) {
        if (size - pos < element_header) fail(net_errc::bad_pdu, pos, "command element header past the end");
        const std::uint32_t group = std::uint32_t(data[pos] | data[pos + 1] << 8);
        const std::uint32_t number = std::uint32_t(data[pos + 2] | data[pos + 3] << 8);
        const std::uint32_t length = load_le32(data + pos + 4);
        const std::uint32_t tag = group << 16 | number;
        if (group != 0) fail(net_errc::bad_pdu, pos, "tag " + tag_name(tag) + " outside group 0000 in a command set");
        if (length > max_value) {
            fail(net_errc::bad_pdu, pos, "value of " + tag_name(tag) + " over 64 KiB (" + std::to_string(length) + ")");
        }
        if (length > size - pos - element_header) {
            fail(net_errc::bad_pdu, pos, "value of " + tag_name(tag) + " runs past the end of the command set");
        }
        const std::uint8_t* value = data + pos + element_header;
        pos += element_header + length;
        if (tag == 0) {
            // Group Length (PS3.7 E.1): when it comes first it must count exactly the rest,
            // which catches a command set cut at an element boundary. Not kept: encode
            // recomputes it.
            if (pos == element_header + length && (length != 4 || load_le32(value) != size - pos)) {
                fail(net_errc::bad_pdu, 0, "Command Group Length does not match the command set's size");
            }
            continue;
        }
        if (out.elements.size() == max_elements) fail(net_errc::bad_pdu, pos, "more than 256 command elements");
        if (!out.elements.empty() && out.elements.back().tag > tag) sorted = false;
        out.elements.push_back(element{tag, std::vector<std::uint8_t>(value, value + length)});
    }
    if (!sorted) {
        std::stable_sort(out.elements.begin(), out.elements.end(),
                         [](const element& a, const element& b) { return a.tag < b.tag; });
    }
    if (!out.us(command_field_tag)) fail(net_errc::bad_pdu, size, "command set without a 2-byte Command Field");
    return out;
}

command_set c_echo_rq(std::uint16_t id, const std::string& sop_class) {
    command_set c;
    c.set_uid(affected_sop_class_uid, sop_class);
    c.set_us(command_field_tag, command_field::c_echo_rq);
    c.set_us(message_id, id);
    c.set_us(command_data_set_type, no_dataset);
    return c;
}

command_set c_echo_rsp(std::uint16_t responding_to, std::uint16_t status_value, const std::string& sop_class) {
    command_set c;
    c.set_uid(affected_sop_class_uid, sop_class);
    c.set_us(command_field_tag, command_field::c_echo_rsp);
    c.set_us(message_id_being_responded_to, responding_to);
    c.set_us(command_data_set_type, no_dataset);
    c.set_us(status, status_value);
    return c;
}

command_set c_store_rq(std::uint16_t id, const std::string& sop_class, const std::string& sop_instance,
                       std::uint16_t priority_value, const std::string& move_originator_ae,
                       std::optional<std::uint16_t> move_originator_id) {
    command_set c;
    c.set_uid(affected_sop_class_uid, sop_class);
    c.set_us(command_field_tag, command_field::c_store_rq);
    c.set_us(message_id, id);
    c.set_us(priority, priority_value);
    c.set_us(command_data_set_type, has_dataset);
    c.set_uid(affected_sop_instance_uid, sop_instance);
    if (!move_originator_ae.empty()) c.set_text(move_originator_application_entity_title, move_originator_ae);
    if (move_originator_id) c.set_us(move_originator_message_id, *move_originator_id);
    return c;
}

command_set c_store_rsp(std::uint16_t responding_to, std::uint16_t status_value, const std::string& sop_class,
                        const std::string& sop_instance) {
    command_set c;
    c.set_uid(affected_sop_class_uid, sop_class);
    c.set_us(command_field_tag, command_field::c_store_rsp);
    c.set_us(message_id_being_responded_to, responding_to);
    c.set_us(command_data_set_type, no_dataset);
    c.set_us(status, status_value);
    c.set_uid(affected_sop_instance_uid, sop_instance);
    return c;
}

}  // namespace turbodicom::net::dimse
