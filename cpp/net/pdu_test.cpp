// Tests of the upper layer PDU codec (net/pdu.hpp): exact encodings against PDUs built by
// pynetdicom 3.0.4, decoding of PDUs captured from DCMTK 3.6.7 (echoscu, storescu, storescp)
// and GDCM 3.2.6 (gdcmscu), round trips of every PDU with every user information sub-item,
// the tolerances (reserved fields, item order, padding, unknown items) and the structural
// errors, every truncation and every bit flip of whole A-ASSOCIATE-RQ PDUs, and the size
// of allocations on hostile lengths.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "net/pdu.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "net/net_error.hpp"

// ---------------------------------------------------------------------------
// Allocation tracking: the largest single request made through operator new while
// tracking is on, so that a test can tell that no length read from the input sized an
// allocation.

namespace {
bool tracking = false;
std::size_t largest_allocation = 0;

void* allocate(std::size_t n) {
    if (tracking && n > largest_allocation) largest_allocation = n;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace turbodicom::net;
using bytes = std::vector<std::uint8_t>;

namespace {

using turbodicom::test::fail;

// Runs `f`, which must throw net_error with `code` (and `offset` unless it is -1).
void expect_error(int line, net_errc code, long long offset, const std::function<void()>& f) {
    const std::string where = "line " + std::to_string(line) + ": ";
    try {
        f();
        fail(where + "no error, expected " + net_errc_name(code));
    } catch (const net_error& e) {
        if (e.code() != code || (offset >= 0 && e.offset() != std::uint64_t(offset))) {
            fail(where + "expected " + net_errc_name(code) + " at " + std::to_string(offset) + ", got: " + e.what());
        }
    }
}
#define EXPECT_ERROR(code, offset, ...) expect_error(__LINE__, code, offset, [&] { __VA_ARGS__; })

bytes str(const std::string& s) { return bytes(s.begin(), s.end()); }

// The body of a whole PDU, after checking that its header states the right type and length.
bytes body_of(const bytes& pdu, pdu_type type) {
    const pdu_header h = read_header(pdu.data());
    if (h.type != std::uint8_t(type) || h.length != pdu.size() - pdu_header_size) {
        fail("PDU header type " + std::to_string(h.type) + " length " + std::to_string(h.length) + " for " +
             std::to_string(pdu.size()) + " bytes");
    }
    return bytes(pdu.begin() + pdu_header_size, pdu.end());
}

associate_rq rq_of(const bytes& pdu) {
    const bytes b = body_of(pdu, pdu_type::associate_rq);
    return decode_associate_rq(b.data(), b.size());
}
associate_ac ac_of(const bytes& pdu) {
    const bytes b = body_of(pdu, pdu_type::associate_ac);
    return decode_associate_ac(b.data(), b.size());
}

void dump_difference(const char* what, const bytes& got, const bytes& want) {
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    fail(std::string(what) + ": " + std::to_string(got.size()) + " bytes vs " + std::to_string(want.size()) +
         " expected, first difference at byte " + std::to_string(i));
}
#define CHECK_BYTES(got, want) \
    do { if ((got) != (want)) dump_difference(#got, (got), (want)); } while (0)

// ---------------------------------------------------------------------------
// Reference PDUs built by pynetdicom 3.0.4 from its primitives (pynetdicom.pdu_primitives:
// A_ASSOCIATE with the presentation contexts and user information listed in
// pynetdicom_rq_fields() / pynetdicom_ac_fields() below, in that order; P_DATA, A_ABORT,
// A_P_ABORT) and encoded by pynetdicom.pdu's A_ASSOCIATE_RQ / _AC / _RJ, P_DATA_TF,
// A_RELEASE_RQ / _RP and A_ABORT_RQ.

// 550 bytes
const bytes pynetdicom_associate_rq = {
    0x01, 0x00, 0x00, 0x00, 0x02, 0x20, 0x00, 0x01, 0x00, 0x00, 0x41, 0x4E, 0x59, 0x2D, 0x53, 0x43,
    0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x20, 0x00, 0x00, 0x45, 0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x11, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x31,
    0x40, 0x00, 0x00, 0x11, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2E, 0x31, 0x2E, 0x32, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30,
    0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x2E, 0x31, 0x20, 0x00, 0x00, 0x3B,
    0x03, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x19, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E,
    0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E,
    0x32, 0x40, 0x00, 0x00, 0x16, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30,
    0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x2E, 0x34, 0x2E, 0x35, 0x30, 0x50, 0x00, 0x01, 0x37, 0x51,
    0x00, 0x00, 0x04, 0x00, 0x00, 0x3F, 0xFE, 0x52, 0x00, 0x00, 0x20, 0x31, 0x2E, 0x32, 0x2E, 0x38,
    0x32, 0x36, 0x2E, 0x30, 0x2E, 0x31, 0x2E, 0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2E, 0x39,
    0x2E, 0x33, 0x38, 0x31, 0x31, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x34, 0x53, 0x00, 0x00, 0x04, 0x00,
    0x05, 0x00, 0x03, 0x54, 0x00, 0x00, 0x1D, 0x00, 0x19, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30,
    0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31,
    0x2E, 0x32, 0x01, 0x00, 0x54, 0x00, 0x00, 0x1D, 0x00, 0x19, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34,
    0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x34, 0x00, 0x01, 0x55, 0x00, 0x00, 0x0E, 0x50, 0x59, 0x4E, 0x45, 0x54, 0x44, 0x49,
    0x43, 0x4F, 0x4D, 0x5F, 0x33, 0x30, 0x34, 0x56, 0x00, 0x00, 0x20, 0x00, 0x1B, 0x31, 0x2E, 0x32,
    0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34,
    0x2E, 0x31, 0x2E, 0x32, 0x2E, 0x31, 0x2E, 0x31, 0x01, 0x01, 0x00, 0x57, 0x00, 0x00, 0x72, 0x00,
    0x1D, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35,
    0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x38, 0x38, 0x2E, 0x32, 0x32, 0x00, 0x11,
    0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x34, 0x2E,
    0x32, 0x00, 0x3E, 0x00, 0x1D, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30,
    0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x38, 0x38, 0x2E,
    0x31, 0x31, 0x00, 0x1D, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x38, 0x38, 0x2E, 0x33,
    0x33, 0x58, 0x00, 0x00, 0x11, 0x02, 0x01, 0x00, 0x05, 0x61, 0x6C, 0x69, 0x63, 0x65, 0x00, 0x06,
    0x73, 0x33, 0x63, 0x72, 0x65, 0x74,
};
// 350 bytes
const bytes pynetdicom_associate_ac = {
    0x02, 0x00, 0x00, 0x00, 0x01, 0x58, 0x00, 0x01, 0x00, 0x00, 0x41, 0x4E, 0x59, 0x2D, 0x53, 0x43,
    0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x21, 0x00, 0x00, 0x1B, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32,
    0x2E, 0x31, 0x21, 0x00, 0x00, 0x19, 0x03, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x11, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x50,
    0x00, 0x00, 0xBB, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x3F, 0xFE, 0x52, 0x00, 0x00, 0x20, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x32, 0x36, 0x2E, 0x30, 0x2E, 0x31, 0x2E, 0x33, 0x36, 0x38, 0x30, 0x30,
    0x34, 0x33, 0x2E, 0x39, 0x2E, 0x33, 0x38, 0x31, 0x31, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x34, 0x53,
    0x00, 0x00, 0x04, 0x00, 0x05, 0x00, 0x03, 0x54, 0x00, 0x00, 0x1D, 0x00, 0x19, 0x31, 0x2E, 0x32,
    0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34,
    0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x32, 0x01, 0x00, 0x54, 0x00, 0x00, 0x1D, 0x00, 0x19, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E,
    0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x34, 0x00, 0x01, 0x55, 0x00, 0x00, 0x0E, 0x50, 0x59, 0x4E,
    0x45, 0x54, 0x44, 0x49, 0x43, 0x4F, 0x4D, 0x5F, 0x33, 0x30, 0x34, 0x56, 0x00, 0x00, 0x20, 0x00,
    0x1B, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35,
    0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x32, 0x2E, 0x31, 0x2E, 0x31, 0x01, 0x01, 0x00, 0x59,
    0x00, 0x00, 0x0B, 0x00, 0x09, 0x74, 0x6F, 0x6B, 0x65, 0x6E, 0x2D, 0x78, 0x79, 0x7A,
};
// 10 bytes
const bytes pynetdicom_associate_rj = {
    0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x03, 0x02,
};
// 33 bytes
const bytes pynetdicom_p_data = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x1B, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x01, 0x02, 0x03,
    0x00, 0x00, 0x00, 0x07, 0x03, 0x00, 0x70, 0x69, 0x78, 0x65, 0x6C, 0x00, 0x00, 0x00, 0x02, 0x05,
    0x02,
};
// 10 bytes
const bytes pynetdicom_release_rq = {
    0x05, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};
// 10 bytes
const bytes pynetdicom_release_rp = {
    0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};
// 10 bytes
const bytes pynetdicom_abort_provider = {
    0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x06,
};
// 10 bytes
const bytes pynetdicom_abort_user = {
    0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

// ---------------------------------------------------------------------------
// PDUs captured on the wire (a recording TCP relay between the two programs) from
// DCMTK 3.6.7 and GDCM 3.2.6.

// DCMTK 3.6.7 echoscu -aet ECHOSCU -aec STORESCP: 211 bytes
const bytes dcmtk_echoscu_rq = {
    0x01, 0x00, 0x00, 0x00, 0x00, 0xCD, 0x00, 0x01, 0x00, 0x00, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x45, 0x43, 0x48, 0x4F, 0x53, 0x43,
    0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x20, 0x00, 0x00, 0x2E, 0x01, 0x00, 0xFF, 0x00, 0x30, 0x00, 0x00, 0x11, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x31,
    0x40, 0x00, 0x00, 0x11, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2E, 0x31, 0x2E, 0x32, 0x50, 0x00, 0x00, 0x3A, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40,
    0x00, 0x52, 0x00, 0x00, 0x1B, 0x31, 0x2E, 0x32, 0x2E, 0x32, 0x37, 0x36, 0x2E, 0x30, 0x2E, 0x37,
    0x32, 0x33, 0x30, 0x30, 0x31, 0x30, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x33, 0x2E, 0x36, 0x2E, 0x37,
    0x55, 0x00, 0x00, 0x0F, 0x4F, 0x46, 0x46, 0x49, 0x53, 0x5F, 0x44, 0x43, 0x4D, 0x54, 0x4B, 0x5F,
    0x33, 0x36, 0x37,
};
// DCMTK 3.6.7 storescp's answer to it: 190 bytes
const bytes dcmtk_storescp_ac = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0xB8, 0x00, 0x01, 0x00, 0x00, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x45, 0x43, 0x48, 0x4F, 0x53, 0x43,
    0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x21, 0x00, 0x00, 0x19, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x11, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32,
    0x50, 0x00, 0x00, 0x3A, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40, 0x00, 0x52, 0x00, 0x00, 0x1B,
    0x31, 0x2E, 0x32, 0x2E, 0x32, 0x37, 0x36, 0x2E, 0x30, 0x2E, 0x37, 0x32, 0x33, 0x30, 0x30, 0x31,
    0x30, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x33, 0x2E, 0x36, 0x2E, 0x37, 0x55, 0x00, 0x00, 0x0F, 0x4F,
    0x46, 0x46, 0x49, 0x53, 0x5F, 0x44, 0x43, 0x4D, 0x54, 0x4B, 0x5F, 0x33, 0x36, 0x37,
};
// echoscu's C-ECHO-RQ: 80 bytes
const bytes dcmtk_echo_rq_p_data = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x4A, 0x00, 0x00, 0x00, 0x46, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00,
    0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E,
    0x31, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x10, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
};
// storescp's C-ECHO-RSP: 90 bytes
const bytes dcmtk_echo_rsp_p_data = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00, 0x50, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00,
    0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E,
    0x31, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x80, 0x00, 0x00, 0x20, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
    0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// echoscu's A-RELEASE-RQ: 10 bytes
const bytes dcmtk_release_rq = {
    0x05, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};
// storescp's A-RELEASE-RP: 10 bytes
const bytes dcmtk_release_rp = {
    0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};
// DCMTK storescu -R -usr alice -pwd s3cret -rsp -pdu 32768: 327 bytes
const bytes dcmtk_storescu_identity_rq = {
    0x01, 0x00, 0x00, 0x00, 0x01, 0x41, 0x00, 0x01, 0x00, 0x00, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x20, 0x00, 0x00, 0x3A, 0x01, 0x00, 0xFF, 0x00, 0x30, 0x00, 0x00, 0x1B, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31,
    0x2E, 0x34, 0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x2E,
    0x31, 0x20, 0x00, 0x00, 0x4F, 0x03, 0x00, 0xFF, 0x00, 0x30, 0x00, 0x00, 0x1B, 0x31, 0x2E, 0x32,
    0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x35, 0x2E, 0x31, 0x2E, 0x34,
    0x2E, 0x31, 0x2E, 0x31, 0x2E, 0x34, 0x2E, 0x31, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2E, 0x32, 0x2E,
    0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x2E, 0x32, 0x40,
    0x00, 0x00, 0x11, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38,
    0x2E, 0x31, 0x2E, 0x32, 0x50, 0x00, 0x00, 0x4F, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x80, 0x00,
    0x52, 0x00, 0x00, 0x1B, 0x31, 0x2E, 0x32, 0x2E, 0x32, 0x37, 0x36, 0x2E, 0x30, 0x2E, 0x37, 0x32,
    0x33, 0x30, 0x30, 0x31, 0x30, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x33, 0x2E, 0x36, 0x2E, 0x37, 0x55,
    0x00, 0x00, 0x0F, 0x4F, 0x46, 0x46, 0x49, 0x53, 0x5F, 0x44, 0x43, 0x4D, 0x54, 0x4B, 0x5F, 0x33,
    0x36, 0x37, 0x58, 0x00, 0x00, 0x11, 0x02, 0x01, 0x00, 0x05, 0x61, 0x6C, 0x69, 0x63, 0x65, 0x00,
    0x06, 0x73, 0x33, 0x63, 0x72, 0x65, 0x74,
};
// storescp's answer to it: 223 bytes
const bytes dcmtk_storescp_ac_2 = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0xD9, 0x00, 0x01, 0x00, 0x00, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x21, 0x00, 0x00, 0x1B, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32,
    0x2E, 0x31, 0x21, 0x00, 0x00, 0x1B, 0x03, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x2E,
    0x32, 0x50, 0x00, 0x00, 0x3A, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40, 0x00, 0x52, 0x00, 0x00,
    0x1B, 0x31, 0x2E, 0x32, 0x2E, 0x32, 0x37, 0x36, 0x2E, 0x30, 0x2E, 0x37, 0x32, 0x33, 0x30, 0x30,
    0x31, 0x30, 0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x33, 0x2E, 0x36, 0x2E, 0x37, 0x55, 0x00, 0x00, 0x0F,
    0x4F, 0x46, 0x46, 0x49, 0x53, 0x5F, 0x44, 0x43, 0x4D, 0x54, 0x4B, 0x5F, 0x33, 0x36, 0x37,
};
// storescp's answer to pynetdicom_associate_rq: 221 bytes
const bytes dcmtk_storescp_ac_to_pynetdicom = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0xD7, 0x00, 0x01, 0x00, 0x00, 0x41, 0x4E, 0x59, 0x2D, 0x53, 0x43,
    0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x21, 0x00, 0x00, 0x1B, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32,
    0x2E, 0x31, 0x21, 0x00, 0x00, 0x19, 0x03, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x11, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x32, 0x50,
    0x00, 0x00, 0x3A, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40, 0x00, 0x52, 0x00, 0x00, 0x1B, 0x31,
    0x2E, 0x32, 0x2E, 0x32, 0x37, 0x36, 0x2E, 0x30, 0x2E, 0x37, 0x32, 0x33, 0x30, 0x30, 0x31, 0x30,
    0x2E, 0x33, 0x2E, 0x30, 0x2E, 0x33, 0x2E, 0x36, 0x2E, 0x37, 0x55, 0x00, 0x00, 0x0F, 0x4F, 0x46,
    0x46, 0x49, 0x53, 0x5F, 0x44, 0x43, 0x4D, 0x54, 0x4B, 0x5F, 0x33, 0x36, 0x37,
};
// storescp --refuse: 10 bytes
const bytes dcmtk_refuse_rj = {
    0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x01,
};
// GDCM gdcmscu --echo --call STORESCP --aetitle GDCMSCU: 227 bytes
const bytes gdcm_echo_rq = {
    0x01, 0x00, 0x00, 0x00, 0x00, 0xDD, 0x00, 0x01, 0x00, 0x00, 0x53, 0x54, 0x4F, 0x52, 0x45, 0x53,
    0x43, 0x50, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x47, 0x44, 0x43, 0x4D, 0x53, 0x43,
    0x55, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x15, 0x31, 0x2E,
    0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x33, 0x2E, 0x31, 0x2E,
    0x31, 0x2E, 0x31, 0x20, 0x00, 0x00, 0x2E, 0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x11, 0x31,
    0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2E, 0x31, 0x2E, 0x31,
    0x40, 0x00, 0x00, 0x11, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x34, 0x30, 0x2E, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2E, 0x31, 0x2E, 0x32, 0x50, 0x00, 0x00, 0x4A, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00, 0x40,
    0x00, 0x52, 0x00, 0x00, 0x30, 0x31, 0x2E, 0x32, 0x2E, 0x38, 0x32, 0x36, 0x2E, 0x30, 0x2E, 0x31,
    0x2E, 0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2E, 0x32, 0x2E, 0x31, 0x31, 0x34, 0x33, 0x2E,
    0x31, 0x30, 0x37, 0x2E, 0x31, 0x30, 0x34, 0x2E, 0x31, 0x30, 0x33, 0x2E, 0x31, 0x31, 0x35, 0x2E,
    0x33, 0x2E, 0x32, 0x2E, 0x36, 0x55, 0x00, 0x00, 0x0A, 0x47, 0x44, 0x43, 0x4D, 0x20, 0x33, 0x2E,
    0x32, 0x2E, 0x36,
};

// The fields pynetdicom_associate_rq was built from.
associate_rq pynetdicom_rq_fields() {
    associate_rq rq;
    rq.called_ae = "ANY-SCP";
    rq.calling_ae = "STORESCU";
    rq.contexts = {{1, "1.2.840.10008.1.1", {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}},
                   {3, "1.2.840.10008.5.1.4.1.1.2", {"1.2.840.10008.1.2.4.50"}}};
    user_information& u = rq.user;
    u.max_length = 16382;
    u.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.3.0.4";
    u.max_operations_invoked = 5;
    u.max_operations_performed = 3;
    u.roles = {{"1.2.840.10008.5.1.4.1.1.2", true, false}, {"1.2.840.10008.5.1.4.1.1.4", false, true}};
    u.implementation_version_name = "PYNETDICOM_304";
    u.extended_negotiation = {{"1.2.840.10008.5.1.4.1.2.1.1", {1, 1, 0}}};
    u.common_extended_negotiation = {{"1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.4.2",
                                      {"1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.33"}}};
    user_identity_rq id;
    id.type = 2;
    id.positive_response_requested = true;
    id.primary = str("alice");
    id.secondary = str("s3cret");
    u.identity_rq = id;
    return rq;
}

// The fields pynetdicom_associate_ac was built from.
associate_ac pynetdicom_ac_fields() {
    associate_ac ac;
    ac.called_ae = "ANY-SCP";
    ac.calling_ae = "STORESCU";
    ac.contexts = {{1, 0, "1.2.840.10008.1.2.1"}, {3, 4, "1.2.840.10008.1.2"}};
    user_information& u = ac.user;
    u.max_length = 16382;
    u.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.3.0.4";
    u.max_operations_invoked = 5;
    u.max_operations_performed = 3;
    u.roles = {{"1.2.840.10008.5.1.4.1.1.2", true, false}, {"1.2.840.10008.5.1.4.1.1.4", false, true}};
    u.implementation_version_name = "PYNETDICOM_304";
    u.extended_negotiation = {{"1.2.840.10008.5.1.4.1.2.1.1", {1, 1, 0}}};
    u.identity_ac = str("token-xyz");
    return ac;
}

void test_pynetdicom_encodings() {
    const associate_rq rq = pynetdicom_rq_fields();
    CHECK_BYTES(encode(rq), pynetdicom_associate_rq);
    CHECK(rq_of(pynetdicom_associate_rq) == rq);

    const associate_ac ac = pynetdicom_ac_fields();
    CHECK_BYTES(encode(ac), pynetdicom_associate_ac);
    CHECK(ac_of(pynetdicom_associate_ac) == ac);

    const associate_rj rj{1, 3, 2};
    CHECK_BYTES(encode(rj), pynetdicom_associate_rj);
    const bytes rj_body = body_of(pynetdicom_associate_rj, pdu_type::associate_rj);
    CHECK(decode_associate_rj(rj_body.data(), rj_body.size()) == rj);

    CHECK_BYTES(encode_release_rq(), pynetdicom_release_rq);
    CHECK_BYTES(encode_release_rp(), pynetdicom_release_rp);
    for (const bytes* r : {&pynetdicom_release_rq, &pynetdicom_release_rp}) {
        const bytes b(r->begin() + 6, r->end());
        decode_release(b.data(), b.size());
    }

    const abort_pdu provider{2, 6}, user{0, 0};
    CHECK_BYTES(encode(provider), pynetdicom_abort_provider);
    CHECK_BYTES(encode(user), pynetdicom_abort_user);
    const bytes ab = body_of(pynetdicom_abort_provider, pdu_type::abort);
    CHECK(decode_abort(ab.data(), ab.size()) == provider);

    // Three PDVs: a last command fragment, a data fragment, and an empty last data fragment.
    const std::uint8_t c1[] = {0, 1, 2, 3};
    const std::uint8_t c2[] = {'p', 'i', 'x', 'e', 'l'};
    const std::vector<pdv> pdvs = {{1, true, true, c1, 4}, {3, false, false, c2, 5}, {5, false, true, nullptr, 0}};
    CHECK_BYTES(encode_p_data(pdvs), pynetdicom_p_data);
    const bytes pb = body_of(pynetdicom_p_data, pdu_type::p_data_tf);
    const std::vector<pdv> got = decode_p_data(pb.data(), pb.size());
    CHECK(got == pdvs);
    if (got.size() == 3) CHECK(got[1].data == pb.data() + 16);  // a view, not a copy
}

void test_dcmtk_and_gdcm() {
    // echoscu -> storescp, C-ECHO and release.
    const associate_rq rq = rq_of(dcmtk_echoscu_rq);
    CHECK(rq.protocol_version == 1);
    CHECK(rq.called_ae == "STORESCP" && rq.calling_ae == "ECHOSCU");
    CHECK(rq.application_context == "1.2.840.10008.3.1.1.1");
    CHECK(rq.contexts.size() == 1);
    CHECK(rq.contexts.at(0) == (presentation_context_rq{1, "1.2.840.10008.1.1", {"1.2.840.10008.1.2"}}));
    CHECK(rq.user.max_length == 16384u);
    CHECK(rq.user.implementation_class_uid == "1.2.276.0.7230010.3.0.3.6.7");
    CHECK(rq.user.implementation_version_name == "OFFIS_DCMTK_367");
    CHECK(rq.user.unknown.empty() && rq.user.roles.empty() && !rq.user.identity_rq);
    // DCMTK writes 0xFF in the third reserved byte of its Presentation Context item
    // (PS3.8 9.3.2.2: "shall not be tested"); everything else we write as it does.
    bytes want = dcmtk_echoscu_rq;
    CHECK(want[6 + 68 + 25 + 6] == 0xFF);
    want[6 + 68 + 25 + 6] = 0;
    CHECK_BYTES(encode(rq), want);

    const associate_ac ac = ac_of(dcmtk_storescp_ac);
    CHECK(ac.called_ae == "STORESCP" && ac.calling_ae == "ECHOSCU");
    CHECK(ac.contexts.size() == 1);
    CHECK(ac.contexts.at(0) == (presentation_context_ac{1, 0, "1.2.840.10008.1.2"}));
    CHECK(ac.user.max_length == 16384u);
    CHECK(ac.user.implementation_version_name == "OFFIS_DCMTK_367");
    CHECK_BYTES(encode(ac), dcmtk_storescp_ac);

    // One PDV each: the whole command set, command and last bits set.
    for (const bytes* p : {&dcmtk_echo_rq_p_data, &dcmtk_echo_rsp_p_data}) {
        const bytes b = body_of(*p, pdu_type::p_data_tf);
        const std::vector<pdv> v = decode_p_data(b.data(), b.size());
        CHECK(v.size() == 1);
        if (v.size() != 1) continue;
        CHECK(v[0].context_id == 1 && v[0].command && v[0].last);
        CHECK(v[0].size == p->size() - p_data_overhead);
        std::uint8_t header[p_data_overhead];
        write_p_data_header(header, 1, true, true, std::uint32_t(v[0].size));
        CHECK(std::memcmp(header, p->data(), p_data_overhead) == 0);
        CHECK_BYTES(encode_p_data(v), *p);
    }
    {
        const bytes b = body_of(dcmtk_echo_rq_p_data, pdu_type::p_data_tf);
        const pdv v = decode_p_data(b.data(), b.size()).at(0);
        // The command set starts with (0000,0000) UL, 4 bytes, implicit VR little endian.
        CHECK(v.size >= 12 && v.data[4] == 4 && v.data[5] == 0);
    }
    CHECK_BYTES(encode_release_rq(), dcmtk_release_rq);
    CHECK_BYTES(encode_release_rp(), dcmtk_release_rp);

    // storescu with user identity (username and passcode, positive response requested).
    const associate_rq id = rq_of(dcmtk_storescu_identity_rq);
    CHECK(id.called_ae == "STORESCP" && id.calling_ae == "STORESCU");
    CHECK(id.contexts.size() == 2);
    CHECK(id.contexts.at(0) == (presentation_context_rq{1, "1.2.840.10008.5.1.4.1.1.4.1", {"1.2.840.10008.1.2.1"}}));
    CHECK(id.contexts.at(1) == (presentation_context_rq{3, "1.2.840.10008.5.1.4.1.1.4.1",
                                                        {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2"}}));
    CHECK(id.user.max_length == 32768u);
    CHECK(id.user.identity_rq.has_value());
    if (id.user.identity_rq) {
        CHECK(id.user.identity_rq->type == 2 && id.user.identity_rq->positive_response_requested);
        CHECK(id.user.identity_rq->primary == str("alice") && id.user.identity_rq->secondary == str("s3cret"));
    }
    CHECK(rq_of(encode(id)) == id);

    const associate_ac ac2 = ac_of(dcmtk_storescp_ac_2);
    CHECK(ac2.calling_ae == "STORESCU");
    CHECK(ac2.contexts.size() == 2);
    CHECK(ac2.contexts.at(1) == (presentation_context_ac{3, 0, "1.2.840.10008.1.2.2"}));
    CHECK(!ac2.user.identity_ac);
    CHECK_BYTES(encode(ac2), dcmtk_storescp_ac_2);

    // storescp's answer to pynetdicom's request: the JPEG-only CT context is rejected
    // (4, transfer syntaxes not supported); DCMTK ignores the sub-items it does not offer.
    const associate_ac ac3 = ac_of(dcmtk_storescp_ac_to_pynetdicom);
    CHECK(ac3.called_ae == "ANY-SCP" && ac3.calling_ae == "STORESCU");
    CHECK(ac3.contexts.size() == 2);
    CHECK(ac3.contexts.at(0) == (presentation_context_ac{1, 0, "1.2.840.10008.1.2.1"}));
    CHECK(ac3.contexts.at(1).id == 3 && ac3.contexts.at(1).result == 4);
    CHECK(ac3.user.roles.empty() && !ac3.user.max_operations_invoked && !ac3.user.identity_ac);
    CHECK_BYTES(encode(ac3), dcmtk_storescp_ac_to_pynetdicom);

    const bytes rj = body_of(dcmtk_refuse_rj, pdu_type::associate_rj);
    CHECK(decode_associate_rj(rj.data(), rj.size()) == (associate_rj{1, 1, 1}));
    CHECK_BYTES(encode(associate_rj{1, 1, 1}), dcmtk_refuse_rj);

    const associate_rq g = rq_of(gdcm_echo_rq);
    CHECK(g.called_ae == "STORESCP" && g.calling_ae == "GDCMSCU");
    CHECK(g.contexts.size() == 1 && g.contexts.at(0).abstract_syntax == "1.2.840.10008.1.1");
    CHECK(g.user.implementation_class_uid == "1.2.826.0.1.3680043.2.1143.107.104.103.115.3.2.6");
    CHECK(g.user.implementation_version_name == "GDCM 3.2.6");
    CHECK(rq_of(encode(g)) == g);
}

// Every field set, every sub-item present, in both directions; and the smallest PDUs.
void test_round_trips() {
    associate_rq rq = pynetdicom_rq_fields();
    rq.protocol_version = 0x0001;
    rq.called_ae = "0123456789ABCDEF";  // 16 characters: no padding
    rq.calling_ae = "A";
    rq.user.max_length = 0;  // unlimited
    rq.user.max_operations_invoked = 0;
    rq.user.max_operations_performed = 65535;
    rq.user.roles.push_back({"1.2.3", true, true});
    rq.user.roles.push_back({"", false, false});
    rq.user.extended_negotiation.push_back({"1.2.4", {}});
    rq.user.common_extended_negotiation.push_back({"1.2.5", "1.2.6", {}});
    rq.user.unknown = {{0x5A, {1, 2, 3}}, {0x59, {}}, {0xFF, bytes(300, 7)}};  // 0x59 is AC-only
    rq.user.identity_rq->secondary.clear();
    rq.user.identity_rq->type = 1;
    rq.user.implementation_version_name = "0123456789ABCDEF";
    presentation_context_rq big{255, std::string(64, '9'), {}};
    for (int i = 0; i < 100; ++i) big.transfer_syntaxes.push_back("1.2.840.10008.1.2." + std::to_string(i));
    rq.contexts.push_back(big);
    CHECK(rq_of(encode(rq)) == rq);

    associate_ac ac = pynetdicom_ac_fields();
    ac.user.unknown = {{0x57, {0, 1, 'x'}}, {0x58, {1, 0, 0, 0, 0, 0}}};  // RQ-only types in an AC
    ac.user.identity_ac = bytes();
    ac.contexts.push_back({7, 1, ""});  // rejected: the empty Transfer Syntax sub-item is written
    ac.contexts.push_back({9, 2, "1.2"});
    CHECK(ac_of(encode(ac)) == ac);

    associate_rq small;
    small.called_ae = "B";
    small.calling_ae = "A";
    small.contexts = {{1, "1.2.840.10008.1.1", {"1.2.840.10008.1.2"}}};
    const bytes s = encode(small);
    // 68 fixed + application context 25 + context 4+4+21+21 + empty user information 4.
    CHECK(s.size() == 6 + 68 + 25 + 50 + 4);
    CHECK(rq_of(s) == small);

    for (std::uint8_t source : {0, 1, 2})
        for (std::uint8_t reason : {0, 1, 6, 0xFF}) {
            const bytes a = encode(abort_pdu{source, reason});
            CHECK(decode_abort(a.data() + 6, a.size() - 6) == (abort_pdu{source, reason}));
        }
    for (std::uint8_t result : {1, 2})
        for (std::uint8_t source : {1, 2, 3})
            for (std::uint8_t reason : {1, 2, 3, 7}) {
                const bytes r = encode(associate_rj{result, source, reason});
                CHECK(decode_associate_rj(r.data() + 6, r.size() - 6) == (associate_rj{result, source, reason}));
            }

    // P-DATA: all four control header combinations, a large PDV.
    const bytes data(100000, 0xAB);
    std::vector<pdv> pdvs;
    for (int i = 0; i < 4; ++i) pdvs.push_back({std::uint8_t(2 * i + 1), (i & 1) != 0, (i & 2) != 0, data.data(), std::size_t(i) * 1000});
    pdvs.push_back({1, false, true, data.data(), data.size()});
    const bytes p = encode_p_data(pdvs);
    CHECK(decode_p_data(p.data() + 6, p.size() - 6) == pdvs);
    std::uint8_t header[p_data_overhead];
    write_p_data_header(header, 0x7F, false, true, 0x01020304);
    const std::uint8_t want[] = {4, 0, 0x01, 0x02, 0x03, 0x0A, 0x01, 0x02, 0x03, 0x06, 0x7F, 0x02};
    CHECK(std::memcmp(header, want, sizeof want) == 0);
}

// Builds an A-ASSOCIATE-RQ or -AC body from a fixed part and a list of raw items.
bytes item(std::uint8_t type, const bytes& value) {
    bytes out = {type, 0, std::uint8_t(value.size() >> 8), std::uint8_t(value.size())};
    out.insert(out.end(), value.begin(), value.end());
    return out;
}
bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
bytes fixed_part(std::uint8_t fill = 0) {
    bytes out(68, fill);
    out[0] = 0;
    out[1] = 1;
    std::memcpy(&out[4], "CALLED          ", 16);
    std::memcpy(&out[20], "CALLING         ", 16);
    return out;
}
const bytes app_context = item(0x10, str("1.2.840.10008.3.1.1.1"));
const bytes verification = item(0x20, cat({{1, 0, 0, 0}, item(0x30, str("1.2.840.10008.1.1")),
                                           item(0x40, str("1.2.840.10008.1.2"))}));
const bytes max_length = item(0x51, {0, 0, 0x40, 0});
const bytes user_info = item(0x50, cat({max_length, item(0x52, str("1.2.3.4"))}));

associate_rq rq_body(const bytes& b) { return decode_associate_rq(b.data(), b.size()); }
associate_ac ac_body(const bytes& b) { return decode_associate_ac(b.data(), b.size()); }

void test_tolerances() {
    // Reserved fields with non-zero values (PS3.8 9.3.1: not tested), items in another order,
    // an unknown item type in the variable field, an unknown presentation context sub-item.
    {
        bytes fixed = fixed_part(0xEE);
        fixed[2] = fixed[3] = 0x5A;
        const bytes context = item(0x20, cat({{1, 0xFF, 0xFF, 0xFF}, item(0x40, str("1.2.840.10008.1.2")),
                                             item(0x35, {1, 2}), item(0x30, str("1.2.840.10008.1.1"))}));
        bytes ui = user_info;
        ui[1] = 0x77;
        const bytes b = cat({fixed, item(0x99, {1, 2, 3}), ui, context, item(0x21, {}), app_context});
        const associate_rq rq = rq_body(b);
        CHECK(rq.called_ae == "CALLED" && rq.calling_ae == "CALLING");
        CHECK(rq.application_context == "1.2.840.10008.3.1.1.1");
        CHECK(rq.contexts.size() == 1 &&
              rq.contexts[0] == (presentation_context_rq{1, "1.2.840.10008.1.1", {"1.2.840.10008.1.2"}}));
        CHECK(rq.user.max_length == 0x4000u && rq.user.implementation_class_uid == "1.2.3.4");
    }
    // UIDs padded with NUL (some peers) or a space; AE titles with leading spaces.
    {
        bytes fixed = fixed_part();
        std::memcpy(&fixed[4], "  CALLED  X     ", 16);
        const bytes context = item(0x20, cat({{3, 0, 0, 0}, item(0x30, cat({str("1.2.840.10008.1.1"), {0}})),
                                             item(0x40, str("1.2.840.10008.1.2 "))}));
        const bytes ui = item(0x50, cat({item(0x52, cat({str("1.2.3"), {0}})), item(0x55, str("NAME  "))}));
        const associate_rq rq = rq_body(cat({fixed, item(0x10, cat({str("1.2.840.10008.3.1.1.1"), {0}})), context, ui}));
        CHECK(rq.called_ae == "CALLED  X");
        CHECK(rq.application_context == "1.2.840.10008.3.1.1.1");
        CHECK(rq.contexts.at(0).abstract_syntax == "1.2.840.10008.1.1");
        CHECK(rq.contexts.at(0).transfer_syntaxes.at(0) == "1.2.840.10008.1.2");
        CHECK(rq.user.implementation_class_uid == "1.2.3" && rq.user.implementation_version_name == "NAME");
        CHECK(!rq.user.max_length);  // PS3.8 D.1 asks for it; we report its absence
    }
    // An all-space AE title decodes to empty (PS3.8 forbids it; the acceptor rejects the
    // association, which needs the request decoded) and cannot be encoded.
    {
        bytes fixed = fixed_part();
        std::memset(&fixed[4], ' ', 16);
        const associate_rq rq = rq_body(cat({fixed, app_context, verification, user_info}));
        CHECK(rq.called_ae.empty());
        EXPECT_ERROR(net_errc::bad_pdu, 0, encode(rq));
    }
    // AC: a rejected context without a Transfer Syntax sub-item, one with two, a context ID
    // that is even (matched against the request by the caller), unknown sub-items kept.
    {
        const bytes c1 = item(0x21, {1, 0, 3, 0});
        const bytes c2 = item(0x21, cat({{2, 0, 0, 0}, item(0x40, str("1.2.840.10008.1.2")), item(0x40, str("1.2"))}));
        const bytes ui = item(0x50, cat({max_length, item(0x60, {9}), item(0x58, {1, 0, 0, 0, 0, 0})}));
        const associate_ac ac = ac_body(cat({fixed_part(), app_context, c1, c2, ui}));
        CHECK(ac.contexts.size() == 2);
        CHECK(ac.contexts.at(0) == (presentation_context_ac{1, 3, ""}));
        CHECK(ac.contexts.at(1) == (presentation_context_ac{2, 0, "1.2.840.10008.1.2"}));
        CHECK(ac.user.unknown.size() == 2 && ac.user.unknown.at(0) == (unknown_item{0x60, {9}}) &&
              ac.user.unknown.at(1).type == 0x58);
        CHECK(!ac.user.identity_rq);
    }
    // Role selection values other than 0 and 1 mean the role is proposed/accepted.
    {
        const bytes ui = item(0x50, item(0x54, cat({{0, 3}, str("1.2"), {2, 0}})));
        const associate_rq rq = rq_body(cat({fixed_part(), app_context, verification, ui}));
        CHECK(rq.user.roles.size() == 1 && rq.user.roles.at(0) == (role_selection{"1.2", true, false}));
    }
    // The message control header's reserved bits are not tested; PDVs may be empty.
    {
        const bytes b = {0, 0, 0, 2, 1, 0xFC, 0, 0, 0, 3, 3, 0xFF, 9};
        const std::vector<pdv> v = decode_p_data(b.data(), b.size());
        CHECK(v.size() == 2 && v[0].size == 0 && !v[0].command && !v[0].last);
        CHECK(v[1].context_id == 3 && v[1].command && v[1].last && v[1].size == 1 && v[1].data[0] == 9);
    }
    // A-ASSOCIATE-RJ, A-ABORT and A-RELEASE: reserved bytes not tested.
    {
        const bytes b = {0xFF, 2, 3, 4};
        CHECK(decode_associate_rj(b.data(), 4) == (associate_rj{2, 3, 4}));
        const bytes a = {0xFF, 0xFF, 2, 5};
        CHECK(decode_abort(a.data(), 4) == (abort_pdu{2, 5}));
        decode_release(a.data(), 4);
    }
}

void test_structural_errors() {
    const bytes fixed = fixed_part();
    const std::size_t v = 68;  // where the variable items start
    // Fixed part cut short.
    EXPECT_ERROR(net_errc::truncated, 67, rq_body(bytes(67, 0)));
    EXPECT_ERROR(net_errc::truncated, 0, ac_body(bytes()));
    // Missing mandatory items.
    EXPECT_ERROR(net_errc::bad_pdu, -1, rq_body(cat({fixed, verification, user_info})));
    EXPECT_ERROR(net_errc::bad_pdu, -1, rq_body(cat({fixed, app_context, user_info})));
    EXPECT_ERROR(net_errc::bad_pdu, -1, rq_body(cat({fixed, app_context, verification})));
    EXPECT_ERROR(net_errc::bad_pdu, -1, ac_body(cat({fixed, app_context, item(0x21, {1, 0, 0, 0, 0x40, 0, 0, 0})})));
    EXPECT_ERROR(net_errc::bad_pdu, -1, ac_body(cat({fixed, app_context, user_info})));
    // Duplicates.
    EXPECT_ERROR(net_errc::bad_pdu, v + 25, rq_body(cat({fixed, app_context, app_context, verification, user_info})));
    EXPECT_ERROR(net_errc::bad_pdu, v + 25 + 50 + user_info.size(),
                 rq_body(cat({fixed, app_context, verification, user_info, user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25 + 50, rq_body(cat({fixed, app_context, verification, verification, user_info})));
    // Item lengths that overrun their parent: the PDU, an item, a sub-item.
    {
        bytes b = cat({fixed, app_context, verification, user_info});
        b[v + 25 + 50 + 3] += 1;  // user information item one byte too long
        EXPECT_ERROR(net_errc::truncated, v + 25 + 50, rq_body(b));
        b = cat({fixed, app_context, verification, user_info});
        b[v + 25 + 4 + 4 + 3] = 0xFF;  // abstract syntax sub-item overruns its context item
        EXPECT_ERROR(net_errc::truncated, v + 25 + 8, rq_body(b));
        b = cat({fixed, app_context, verification, user_info});
        b[v + 25 + 50 + 4 + 3] = 5;  // maximum length sub-item says 5: overruns the next sub-item's header? no: bad length
        EXPECT_ERROR(net_errc::bad_item, v + 25 + 50 + 4, rq_body(b));
        b = cat({fixed, app_context, verification, user_info, {0x10, 0}});  // 2 stray bytes
        EXPECT_ERROR(net_errc::truncated, b.size() - 2, rq_body(b));
    }
    // Presentation context ID even or 0 in a request.
    for (std::uint8_t id : {0, 2, 254}) {
        bytes ctx = verification;
        ctx[4] = id;
        EXPECT_ERROR(net_errc::bad_item, v + 25, rq_body(cat({fixed, app_context, ctx, user_info})));
    }
    // Context items without their sub-items, or too short for their fixed fields.
    EXPECT_ERROR(net_errc::bad_item, v + 25,
                 rq_body(cat({fixed, app_context, item(0x20, cat({{1, 0, 0, 0}, item(0x40, str("1.2"))})), user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25,
                 rq_body(cat({fixed, app_context, item(0x20, cat({{1, 0, 0, 0}, item(0x30, str("1.2"))})), user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25 + 15,  // the second Abstract Syntax sub-item
                 rq_body(cat({fixed, app_context, item(0x20, cat({{1, 0, 0, 0}, item(0x30, str("1.2")), item(0x30, str("1.2")),
                                                                  item(0x40, str("1.2"))})), user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25, rq_body(cat({fixed, app_context, item(0x20, {1, 0, 0}), user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25, ac_body(cat({fixed, app_context, item(0x21, {1, 0, 0}), user_info})));
    EXPECT_ERROR(net_errc::bad_item, v + 25, ac_body(cat({fixed, app_context, item(0x21, {1, 0, 0, 0}), user_info})));
    // UIDs over 64 characters.
    EXPECT_ERROR(net_errc::bad_item, v, rq_body(cat({fixed, item(0x10, bytes(65, '1')), verification, user_info})));
    // User information sub-items: each fixed length, each duplicate singleton, each count
    // that overruns its sub-item, each sub-item with bytes past its fields.
    const std::size_t u = v + 25 + 50 + 4;  // first sub-item
    auto with_sub = [&](const bytes& sub) { return rq_body(cat({fixed, app_context, verification, item(0x50, sub)})); };
    const std::size_t ua = v + 25 + 8 + 4;  // first sub-item of ac_with_sub's
    auto ac_with_sub = [&](const bytes& sub) {
        return ac_body(cat({fixed, app_context, item(0x21, {1, 0, 1, 0}), item(0x50, sub)}));
    };
    for (std::size_t n : {0, 3, 5, 8}) EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x51, bytes(n, 0))));
    for (std::size_t n : {0, 2, 6}) EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x53, bytes(n, 0))));
    EXPECT_ERROR(net_errc::bad_item, u + 8, with_sub(cat({max_length, max_length})));
    EXPECT_ERROR(net_errc::bad_item, u + 7, with_sub(cat({item(0x52, str("1.2")), item(0x52, str("1.2"))})));
    EXPECT_ERROR(net_errc::bad_item, u + 8, with_sub(cat({item(0x53, {0, 1, 0, 1}), item(0x53, {0, 1, 0, 1})})));
    EXPECT_ERROR(net_errc::bad_item, u + 6, with_sub(cat({item(0x55, str("AA")), item(0x55, str("BB"))})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x55, str("12345678901234567"))));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x52, bytes(65, '2'))));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x54, {0})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x54, {0, 4, '1', '.', '2', 1})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x54, {0, 3, '1', '.', '2', 1})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x54, {0, 3, '1', '.', '2', 1, 0, 0})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x56, {0, 9, '1'})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x57, {0, 1, '1', 0, 1, '2'})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x57, {0, 1, '1', 0, 1, '2', 0, 4, 0, 1, '3'})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x57, {0, 1, '1', 0, 1, '2', 0, 3, 0, 2, '3', 9})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x57, {0, 1, '1', 0, 1, '2', 0, 0, 7})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x58, {1})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x58, {1, 0, 0, 1, 'a', 0})));
    EXPECT_ERROR(net_errc::bad_item, u, with_sub(item(0x58, {1, 0, 0, 1, 'a', 0, 0, 0})));
    EXPECT_ERROR(net_errc::bad_item, u + 10, with_sub(cat({item(0x58, {1, 0, 0, 0, 0, 0}), item(0x58, {1, 0, 0, 0, 0, 0})})));
    EXPECT_ERROR(net_errc::bad_item, ua, ac_with_sub(item(0x59, {0, 2, 'a'})));
    EXPECT_ERROR(net_errc::bad_item, ua, ac_with_sub(item(0x59, {0, 1, 'a', 'b'})));
    EXPECT_ERROR(net_errc::bad_item, ua + 6, ac_with_sub(cat({item(0x59, {0, 0}), item(0x59, {0, 0})})));
    EXPECT_ERROR(net_errc::truncated, u, with_sub({0x51, 0, 0}));
    // And the well-formed versions of the same decode.
    CHECK(with_sub(item(0x57, {0, 1, '1', 0, 1, '2', 0, 3, 0, 1, '3'})).user.common_extended_negotiation.at(0) ==
          (sop_class_common_extended{"1", "2", {"3"}}));
    CHECK(ac_with_sub(item(0x59, {0, 1, 'a'})).user.identity_ac == str("a"));

    // The fixed-size PDUs.
    const bytes four(8, 0);
    for (std::size_t n : {0, 3}) {
        EXPECT_ERROR(net_errc::truncated, n, decode_associate_rj(four.data(), n));
        EXPECT_ERROR(net_errc::truncated, n, decode_abort(four.data(), n));
        EXPECT_ERROR(net_errc::truncated, n, decode_release(four.data(), n));
    }
    EXPECT_ERROR(net_errc::bad_pdu, 4, decode_associate_rj(four.data(), 5));
    EXPECT_ERROR(net_errc::bad_pdu, 4, decode_abort(four.data(), 8));
    EXPECT_ERROR(net_errc::bad_pdu, 4, decode_release(four.data(), 6));

    // P-DATA-TF.
    EXPECT_ERROR(net_errc::bad_pdu, 0, decode_p_data(four.data(), 0));
    for (std::uint8_t n : {0, 1}) {
        const bytes b = {0, 0, 0, 2, 1, 3, 0, 0, 0, n, 1, 3};
        EXPECT_ERROR(net_errc::bad_item, 6, decode_p_data(b.data(), b.size()));
    }
    {
        const bytes b = {0, 0, 0, 3, 1, 3, 7, 0, 0, 0};
        EXPECT_ERROR(net_errc::truncated, 7, decode_p_data(b.data(), b.size()));
        const bytes c = {0, 0, 0, 5, 1, 3, 7};
        EXPECT_ERROR(net_errc::truncated, 0, decode_p_data(c.data(), c.size()));
        const bytes d = {0xFF, 0xFF, 0xFF, 0xFF, 1, 3};
        EXPECT_ERROR(net_errc::truncated, 0, decode_p_data(d.data(), d.size()));
    }
}

void test_encoding_errors() {
    const associate_rq good = pynetdicom_rq_fields();
    auto bad = [&](const std::function<void(associate_rq&)>& change) {
        associate_rq rq = good;
        change(rq);
        return encode(rq);
    };
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.called_ae = "12345678901234567"; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.calling_ae = ""; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.calling_ae = "    "; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.calling_ae = "A\\B"; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.calling_ae = "A\nB"; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.application_context = std::string(65, '1'); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.contexts.clear(); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.contexts[0].id = 2; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.contexts[1].id = 1; }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.contexts[1].transfer_syntaxes.clear(); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.contexts[1].transfer_syntaxes[0] = std::string(65, '1'); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.implementation_version_name = std::string(17, 'V'); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.max_operations_performed.reset(); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.identity_ac = bytes(); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.unknown.push_back({0x51, {}}); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.roles[0].sop_class_uid = std::string(65, '1'); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.identity_rq->primary = bytes(65536, 'p'); }));
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) { r.user.extended_negotiation[0].info = bytes(65536, 0); }));
    // The user information item as a whole must fit in 16 bits.
    EXPECT_ERROR(net_errc::bad_pdu, 0, bad([](associate_rq& r) {
        for (int i = 0; i < 2000; ++i) r.user.roles.push_back({std::string(30, '1'), true, true});
    }));
    // Spaces around an AE title are not significant: they are not sent.
    CHECK(rq_of(bad([](associate_rq& r) { r.called_ae = "  ANY-SCP  "; })) == good);
    const std::vector<std::uint8_t> q = bad([](associate_rq& r) { r.called_ae = " 0123456789ABCDEF "; });
    CHECK(std::memcmp(q.data() + 10, "0123456789ABCDEF", 16) == 0);

    associate_ac ac = pynetdicom_ac_fields();
    ac.user.identity_rq = user_identity_rq();
    EXPECT_ERROR(net_errc::bad_pdu, 0, encode(ac));
    ac = pynetdicom_ac_fields();
    ac.user.common_extended_negotiation.push_back({"1", "2", {}});
    EXPECT_ERROR(net_errc::bad_pdu, 0, encode(ac));
    ac = pynetdicom_ac_fields();
    ac.user.unknown.push_back({0x59, {}});
    EXPECT_ERROR(net_errc::bad_pdu, 0, encode(ac));
    ac = pynetdicom_ac_fields();
    ac.calling_ae = "";
    EXPECT_ERROR(net_errc::bad_pdu, 0, encode(ac));
    ac = pynetdicom_ac_fields();
    ac.contexts.clear();
    EXPECT_ERROR(net_errc::bad_pdu, 0, encode(ac));

    EXPECT_ERROR(net_errc::bad_pdu, 0, encode_p_data({}));
    std::uint8_t header[p_data_overhead];
    EXPECT_ERROR(net_errc::too_large, 0, write_p_data_header(header, 1, false, false, 0xFFFFFFFAu));
    write_p_data_header(header, 1, false, false, 0xFFFFFFF9u);
    CHECK(read_header(header).length == 0xFFFFFFFFu);

    CHECK(is_valid_ae_title("ANY-SCP") && is_valid_ae_title(" A ") && is_valid_ae_title("0123456789ABCDEF"));
    CHECK(!is_valid_ae_title("") && !is_valid_ae_title("                ") && !is_valid_ae_title("A\x7F"));
}

// Decodes `b` as the body of a PDU of type `type`; on success, encodes it again and checks
// that the result decodes to the same fields. Returns whether the first decoding succeeded.
bool decode_and_round_trip(pdu_type type, const bytes& b, int line) {
    try {
        switch (type) {
            case pdu_type::associate_rq: {
                const associate_rq rq = decode_associate_rq(b.data(), b.size());
                if (is_valid_ae_title(rq.called_ae) && is_valid_ae_title(rq.calling_ae) && rq_of(encode(rq)) != rq) {
                    fail("line " + std::to_string(line) + ": A-ASSOCIATE-RQ does not round trip");
                }
                return true;
            }
            case pdu_type::associate_ac: {
                const associate_ac ac = decode_associate_ac(b.data(), b.size());
                if (is_valid_ae_title(ac.called_ae) && is_valid_ae_title(ac.calling_ae) && ac_of(encode(ac)) != ac) {
                    fail("line " + std::to_string(line) + ": A-ASSOCIATE-AC does not round trip");
                }
                return true;
            }
            case pdu_type::p_data_tf: {
                const std::vector<pdv> v = decode_p_data(b.data(), b.size());
                const bytes again = encode_p_data(v);
                if (decode_p_data(again.data() + 6, again.size() - 6) != v) {
                    fail("line " + std::to_string(line) + ": P-DATA-TF does not round trip");
                }
                return true;
            }
            default: return false;
        }
    } catch (const net_error&) {
        return false;
    }
}

void test_truncations_and_bit_flips() {
    struct sample {
        const bytes* pdu;
        pdu_type type;
    };
    const sample samples[] = {
        {&pynetdicom_associate_rq, pdu_type::associate_rq},
        {&dcmtk_echoscu_rq, pdu_type::associate_rq},
        {&dcmtk_storescu_identity_rq, pdu_type::associate_rq},
        {&gdcm_echo_rq, pdu_type::associate_rq},
        {&pynetdicom_associate_ac, pdu_type::associate_ac},
        {&dcmtk_storescp_ac_to_pynetdicom, pdu_type::associate_ac},
        {&pynetdicom_p_data, pdu_type::p_data_tf},
        {&dcmtk_echo_rq_p_data, pdu_type::p_data_tf},
    };
    for (const sample& s : samples) {
        const bytes body(s.pdu->begin() + 6, s.pdu->end());
        // Every truncation of an A-ASSOCIATE-RQ/AC throws: the User Information item is last.
        for (std::size_t n = 0; n < body.size(); ++n) {
            const bytes cut(body.begin(), body.begin() + std::ptrdiff_t(n));
            const bool decoded = decode_and_round_trip(s.type, cut, __LINE__);
            if (decoded && s.type != pdu_type::p_data_tf) {
                fail(std::to_string(n) + "-byte truncation of a " + std::to_string(body.size()) + "-byte body decoded");
            }
        }
        // Every single bit flip throws or decodes to something that round trips; the
        // allocations stay within a small multiple of the input.
        std::size_t decoded = 0;
        for (std::size_t i = 0; i < body.size() * 8; ++i) {
            bytes flipped = body;
            flipped[i / 8] ^= std::uint8_t(1u << (i % 8));
            largest_allocation = 0;
            tracking = true;
            try {
                switch (s.type) {
                    case pdu_type::associate_rq: decode_associate_rq(flipped.data(), flipped.size()); break;
                    case pdu_type::associate_ac: decode_associate_ac(flipped.data(), flipped.size()); break;
                    default: decode_p_data(flipped.data(), flipped.size()); break;
                }
            } catch (const net_error&) {
            }
            tracking = false;
            if (largest_allocation > 16 * flipped.size() + 256) {
                fail("bit flip " + std::to_string(i) + " allocated " + std::to_string(largest_allocation) +
                     " bytes for a " + std::to_string(flipped.size()) + "-byte body");
            }
            decoded += decode_and_round_trip(s.type, flipped, __LINE__);
        }
        CHECK(decoded > 0);
    }
}

// Lengths near 2^16 and 2^32 on tiny inputs: errors, and no allocation sized from them.
void test_hostile_lengths() {
    const bytes fixed = fixed_part();
    const bytes cases[] = {
        cat({fixed, {0x10, 0, 0xFF, 0xFF}}),
        cat({fixed, app_context, {0x20, 0, 0xFF, 0xFF, 1, 0, 0, 0}}),
        cat({fixed, app_context, verification, {0x50, 0, 0, 8, 0x54, 0, 0, 4, 0xFF, 0xFF, 0, 0}}),
        cat({fixed, app_context, verification, {0x50, 0, 0, 8, 0x58, 0, 0, 4, 1, 0, 0xFF, 0xFF}}),
        cat({fixed, app_context, verification, {0x50, 0, 0, 10, 0x57, 0, 0, 6, 0, 0, 0, 0, 0xFF, 0xFF}}),
    };
    for (const bytes& b : cases) {
        largest_allocation = 0;
        tracking = true;
        bool threw = false;
        try {
            rq_body(b);
        } catch (const net_error&) {
            threw = true;
        }
        tracking = false;
        CHECK(threw);
        CHECK(largest_allocation <= b.size() + 256);  // strings and the error message only
    }
    const bytes p = {0xFF, 0xFF, 0xFF, 0xFF, 1, 3, 0, 0};
    largest_allocation = 0;
    tracking = true;
    try {
        decode_p_data(p.data(), p.size());
    } catch (const net_error&) {
    }
    tracking = false;
    CHECK(largest_allocation <= 256);  // the error message, nothing sized by 0xFFFFFFFF
}

}  // namespace

int main() {
    test_pynetdicom_encodings();
    test_dcmtk_and_gdcm();
    test_round_trips();
    test_tolerances();
    test_structural_errors();
    test_encoding_errors();
    test_truncations_and_bit_flips();
    test_hostile_lengths();
    return turbodicom::test::exit_code("pdu_test");
}
