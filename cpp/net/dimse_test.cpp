// Tests of the DIMSE command sets (net/dimse.hpp): encodings compared byte for byte with
// what pynetdicom 3.0.4 / pydicom 3.0 write (dimse_messages.C_ECHO_RQ etc., the command
// Dataset written Implicit VR Little Endian) and with what DCMTK 3.6.7 echoscu and storescu
// send; decoding of those bytes, of unknown and out-of-order elements, and of every
// truncation and malformed element (net_error, never a crash or an over-read).
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "net/dimse.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "net/net_error.hpp"

namespace {

namespace net = turbodicom::net;
namespace dimse = turbodicom::net::dimse;
using bytes = std::vector<std::uint8_t>;
using net::net_error;
using turbodicom::test::current_test;
using turbodicom::test::expect_error;

bytes from_hex(const char* hex) {
    bytes out;
    for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        out.push_back(std::uint8_t(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

// ---------------------------------------------------------------------------
// Reference bytes.

// pynetdicom: C_ECHO(MessageID=7), C_ECHO_RQ.primitive_to_message, Implicit VR LE.
const char* echo_rq_7 =
    "0000000004000000380000000000020012000000312e322e3834302e31303030382e312e310000000001020000003000"
    "0000100102000000070000000008020000000101";
// pynetdicom: C_ECHO(MessageIDBeingRespondedTo=7, Status=0), C_ECHO_RSP.
const char* echo_rsp_7 =
    "0000000004000000420000000000020012000000312e322e3834302e31303030382e312e310000000001020000003080"
    "000020010200000007000000000802000000010100000009020000000000";
// pynetdicom: C_STORE(MessageID=3, CT Image Storage, instance 1.2.3.4.5, Priority 0,
// DataSet present), C_STORE_RQ.
const char* store_rq_3 =
    "00000000040000005c000000000002001a000000312e322e3834302e31303030382e352e312e342e312e312e3200000000"
    "01020000000100000010010200000003000000000702000000000000000008020000000100000000100a000000312e32"
    "2e332e342e3500";
// The same with instance 1.2.3.4.56, Priority 2 (low), Move Originator MOVESCU / 9.
const char* store_rq_move =
    "000000000400000076000000000002001a000000312e322e3834302e31303030382e352e312e342e312e312e3200000000"
    "01020000000100000010010200000003000000000702000000020000000008020000000100000000100a000000312e32"
    "2e332e342e353600003010080000004d4f56455343552000003110020000000900";
// pynetdicom: C_STORE(MessageIDBeingRespondedTo=3, Status=0xB000), C_STORE_RSP.
const char* store_rsp_3 =
    "00000000040000005c000000000002001a000000312e322e3834302e31303030382e352e312e342e312e312e3200000000"
    "0102000000018000002001020000000300000000080200000001010000000902000000" "00b0000000100a000000312e"
    "322e332e342e3500";
// pydicom: a C-ECHO-RSP Dataset with Status 0x0110, Offending Element (AT, two tags) and
// Error Comment "BAD" (LO, space padded), written Implicit VR LE.
const char* echo_rsp_error =
    "00000000040000005e0000000000020012000000312e322e3834302e31303030382e312e310000000001020000003080"
    "00002001020000000500000000080200000001010000000902000000100100000109080000001000100010002000000002"
    "090400000042414420";
// DCMTK 3.6.7 echoscu: the C-ECHO-RQ it sends (captured on the wire).
const char* dcmtk_echo_rq =
    "0000000004000000380000000000020012000000312e322e3834302e31303030382e312e310000000001020000003000"
    "0000100102000000010000000008020000000101";
// DCMTK 3.6.7 storescu: the C-STORE-RQ of a Secondary Capture image (captured on the wire).
const char* dcmtk_store_rq =
    "000000000400000092000000000002001a000000312e322e3834302e31303030382e352e312e342e312e312e3700000000"
    "01020000000100000010010200000001000000000702000000000000000008020000000100000000104000000031"
    "2e322e3832362e302e312e333638303034332e382e3439382e3439303433393634343832333630383534313832353330"
    "313637363033353035353235313136";

// ---------------------------------------------------------------------------

void test_encode_matches_pynetdicom() {
    current_test = "encode_matches_pynetdicom";
    CHECK_EQ(dimse::encode(dimse::c_echo_rq(7)), from_hex(echo_rq_7));
    CHECK_EQ(dimse::encode(dimse::c_echo_rsp(7, 0)), from_hex(echo_rsp_7));
    CHECK_EQ(dimse::encode(dimse::c_store_rq(3, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5")), from_hex(store_rq_3));
    CHECK_EQ(dimse::encode(dimse::c_store_rq(3, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.56", 2, "MOVESCU", 9)),
             from_hex(store_rq_move));
    CHECK_EQ(dimse::encode(dimse::c_store_rsp(3, 0xB000, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5")),
             from_hex(store_rsp_3));

    // Built with the setters in another order: still sorted, same bytes.
    dimse::command_set c;
    c.set_text(dimse::error_comment, "BAD");
    c.set_bytes(dimse::offending_element, {0x10, 0x00, 0x10, 0x00, 0x10, 0x00, 0x20, 0x00});
    c.set_us(dimse::status, 0x0110);
    c.set_us(dimse::command_data_set_type, dimse::no_dataset);
    c.set_us(dimse::message_id_being_responded_to, 5);
    c.set_us(dimse::command_field_tag, dimse::command_field::c_echo_rsp);
    c.set_uid(dimse::affected_sop_class_uid, "1.2.840.10008.1.1");
    c.set_us(dimse::status, 0x0110);  // replacing keeps one element
    CHECK_EQ(dimse::encode(c), from_hex(echo_rsp_error));
}

void test_encode_matches_dcmtk() {
    current_test = "encode_matches_dcmtk";
    CHECK_EQ(dimse::encode(dimse::c_echo_rq(1)), from_hex(dcmtk_echo_rq));
    CHECK_EQ(dimse::encode(dimse::c_store_rq(1, "1.2.840.10008.5.1.4.1.1.7",
                                             "1.2.826.0.1.3680043.8.498.49043964482360854182530167603505525116")),
             from_hex(dcmtk_store_rq));
}

void test_decode() {
    current_test = "decode";
    for (const char* hex : {echo_rq_7, echo_rsp_7, store_rq_3, store_rq_move, store_rsp_3, echo_rsp_error,
                            dcmtk_echo_rq, dcmtk_store_rq}) {
        const bytes b = from_hex(hex);
        const dimse::command_set c = dimse::decode(b.data(), b.size());
        CHECK(c.find(0) == nullptr);           // Group Length not kept
        CHECK_EQ(dimse::encode(c), b);         // and recomputed the same
    }
    bytes b = from_hex(store_rq_move);
    dimse::command_set c = dimse::decode(b.data(), b.size());
    CHECK_EQ(c.us(dimse::command_field_tag).value_or(0), std::uint16_t(0x0001));
    CHECK_EQ(c.us(dimse::message_id).value_or(0), std::uint16_t(3));
    CHECK_EQ(c.us(dimse::priority).value_or(9), std::uint16_t(2));
    CHECK_EQ(c.text(dimse::affected_sop_class_uid).value_or(""), std::string("1.2.840.10008.5.1.4.1.1.2"));
    CHECK_EQ(c.text(dimse::affected_sop_instance_uid).value_or(""), std::string("1.2.3.4.56"));
    CHECK_EQ(c.text(dimse::move_originator_application_entity_title).value_or(""), std::string("MOVESCU"));
    CHECK_EQ(c.us(dimse::move_originator_message_id).value_or(0), std::uint16_t(9));
    CHECK(c.dataset_follows());
    CHECK(!c.us(dimse::status));                       // absent
    CHECK(!c.ul(dimse::message_id));                   // present but 2 bytes
    CHECK(!c.us(dimse::affected_sop_class_uid));       // not 2 bytes

    b = from_hex(echo_rsp_7);
    c = dimse::decode(b.data(), b.size());
    CHECK(!c.dataset_follows());
    CHECK_EQ(c.us(dimse::status).value_or(1), std::uint16_t(0));

    // An unknown tag (0000,5555) and elements out of order: kept and sorted.
    dimse::command_set u;
    u.set_us(dimse::command_field_tag, dimse::command_field::c_echo_rq);
    u.set_ul(0x5555, 0xDEADBEEF);
    u.set_us(dimse::message_id, 1);
    bytes e = dimse::encode(u);
    CHECK_EQ(u.ul(0x5555).value_or(0), 0xDEADBEEFu);
    // Swap the last two elements (message id and 0x5555) on the wire: 10 and 12 bytes.
    bytes swapped(e.begin(), e.begin() + 12 + 10);
    swapped.insert(swapped.end(), e.end() - 12, e.end());
    swapped.insert(swapped.end(), e.begin() + 22, e.begin() + 32);
    CHECK_EQ(swapped.size(), e.size());
    c = dimse::decode(swapped.data(), swapped.size());
    CHECK_EQ(c.elements.size(), std::size_t(3));
    CHECK_EQ(c.ul(0x5555).value_or(0), 0xDEADBEEFu);
    CHECK_EQ(dimse::encode(c), e);
    // Without a Group Length element at all.
    c = dimse::decode(e.data() + 12, e.size() - 12);
    CHECK_EQ(dimse::encode(c), e);
    // A command data set type other than 0x0101 and 0x0001 still means a data set.
    u.set_us(dimse::command_data_set_type, 0x0102);
    CHECK(u.dataset_follows());
    u.set_us(dimse::command_data_set_type, 0x0000);
    CHECK(u.dataset_follows());
    u.set_us(dimse::command_data_set_type, dimse::no_dataset);
    CHECK(!u.dataset_follows());
}

void test_padding() {
    current_test = "padding";
    dimse::command_set c;
    c.set_uid(dimse::affected_sop_class_uid, "1.2.3");
    c.set_uid(dimse::affected_sop_instance_uid, "1.2.34");
    c.set_text(dimse::move_destination, "ABC");
    c.set_text(dimse::error_comment, "");
    CHECK_EQ(c.find(dimse::affected_sop_class_uid)->value, (bytes{'1', '.', '2', '.', '3', 0}));
    CHECK_EQ(c.find(dimse::affected_sop_instance_uid)->value, (bytes{'1', '.', '2', '.', '3', '4'}));
    CHECK_EQ(c.find(dimse::move_destination)->value, (bytes{'A', 'B', 'C', ' '}));
    CHECK(c.find(dimse::error_comment)->value.empty());
    CHECK_EQ(c.text(dimse::affected_sop_class_uid).value_or(""), std::string("1.2.3"));
    CHECK_EQ(c.text(dimse::move_destination).value_or(""), std::string("ABC"));
    CHECK_EQ(c.text(dimse::error_comment).value_or("x"), std::string(""));
    CHECK(!c.text(dimse::status));
}

void test_truncations() {
    current_test = "truncations";
    for (const char* hex : {echo_rq_7, echo_rsp_7, store_rq_3, store_rq_move, store_rsp_3, echo_rsp_error,
                            dcmtk_store_rq}) {
        const bytes whole = from_hex(hex);
        for (std::size_t n = 0; n < whole.size(); ++n) {
            // A copy of exactly n bytes, so that the sanitizers see any read past the end.
            const bytes cut(whole.begin(), whole.begin() + std::ptrdiff_t(n));
            const std::uint8_t* p = cut.empty() ? nullptr : cut.data();
            expect_error<net_error>([&] { dimse::decode(p, n); }, net::net_errc::bad_pdu,
                                    "truncated to " + std::to_string(n) + " of " + std::to_string(whole.size()));
        }
    }
}

void test_malformed() {
    current_test = "malformed";
    const bytes good = from_hex(echo_rq_7);
    // A tag outside group 0000.
    bytes b = good;
    b[12] = 0x08;
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "group 0008");
    // A length running past the end, and a huge one.
    b = good;
    b[12 + 4] = 0x13;
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "length past the end");
    b = good;
    b[12 + 7] = 0xFF;
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "length 0xFF000012");
    // No Command Field, or one that is not 2 bytes.
    dimse::command_set c;
    c.set_us(dimse::message_id, 1);
    b = dimse::encode(c);
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "no command field");
    c.set_ul(dimse::command_field_tag, 0x30);
    b = dimse::encode(c);
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "4-byte command field");
    // Limits: a value over 64 KiB, more than 256 elements.
    c = dimse::command_set();
    c.set_us(dimse::command_field_tag, dimse::command_field::c_echo_rq);
    c.set_bytes(dimse::error_comment, bytes(64 * 1024, 'x'));
    b = dimse::encode(c);
    CHECK_EQ(dimse::decode(b.data(), b.size()).find(dimse::error_comment)->value.size(), std::size_t(64 * 1024));
    c.set_bytes(dimse::error_comment, bytes(64 * 1024 + 2, 'x'));
    b = dimse::encode(c);
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "value over 64 KiB");
    c = dimse::command_set();
    c.set_us(dimse::command_field_tag, dimse::command_field::c_echo_rq);
    for (std::uint32_t i = 0; i < 255; ++i) c.set_us(0x4000 + i, 0);
    b = dimse::encode(c);
    CHECK_EQ(dimse::decode(b.data(), b.size()).elements.size(), std::size_t(256));
    c.set_us(0x5000, 0);
    b = dimse::encode(c);
    expect_error<net_error>([&] { dimse::decode(b.data(), b.size()); }, net::net_errc::bad_pdu, "257 elements");
    // Empty input.
    expect_error<net_error>([&] { dimse::decode(nullptr, 0); }, net::net_errc::bad_pdu, "empty");
}

}  // namespace

int main() {
    turbodicom::test::run({
        test_encode_matches_pynetdicom, test_encode_matches_dcmtk, test_decode, test_padding, test_truncations,
        test_malformed,
    });
    return turbodicom::test::exit_code("dimse_test");
}
