// Tests of the TCP connection (net/connection.hpp) over loopback: client and server ends
// of one connection, the sending side on a second thread. PDU round trips; DIMSE messages
// with data sets of 0, 1, odd, PDV-boundary and several-MB sizes for peer maximum PDU
// lengths from 4096 to 0 (unlimited), checked PDU by PDU on the wire and reassembled;
// sending from a file and receiving into a file; and the failures: a peer that stops or
// closes inside a PDU, a PDU over the limit (refused before any allocation), PDVs on the
// wrong context or out of order, an A-ABORT inside a message (the partial file removed),
// message limits, close() from another thread, the listener on port 0.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "net/connection.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "core/test_support.hpp"
#include "net/dimse.hpp"
#include "net/net_error.hpp"
#include "net/pdu.hpp"
#include "net/store_file.hpp"

// ---------------------------------------------------------------------------
// Allocation tracking: the largest single request made through operator new on the
// tracking thread, so that a test can tell that a PDU length was not used to allocate.

namespace {
thread_local bool tracking = false;
thread_local std::size_t largest_allocation = 0;

void* allocate(std::size_t n) {
    if (tracking && n > largest_allocation) largest_allocation = n;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace net = turbodicom::net;
namespace dimse = turbodicom::net::dimse;
namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;
using net::net_errc;

using turbodicom::test::current_test;
using turbodicom::test::fail;

// Runs f expecting net_error(code); returns the seconds it took.
double expect_error(const std::function<void()>& f, net_errc code, const std::string& what) {
    const auto start = std::chrono::steady_clock::now();
    turbodicom::test::expect_error<net::net_error>(f, code, what);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A function run on a second thread; join() reports what it threw.
class background {
public:
    explicit background(std::function<void()> f)
        : thread_([this, f = std::move(f)] {
              try {
                  f();
              } catch (const std::exception& e) {
                  error_ = e.what();
              } catch (...) {
                  error_ = "unknown exception";
              }
          }) {}
    ~background() {
        if (thread_.joinable()) thread_.join();
    }
    void join(const std::string& what) {
        thread_.join();
        if (!error_.empty()) fail(what + ": background thread threw: " + error_);
    }

private:
    std::string error_;
    std::thread thread_;
};

// ---------------------------------------------------------------------------
// Helpers

struct pair {
    std::unique_ptr<net::connection> client;
    std::unique_ptr<net::connection> server;
};

// The server end is accepted right after connect returns: the kernel completes the
// handshake from the listen backlog, so no second thread is needed for setup.
pair make_pair(net::connection_options client_options = {}, net::connection_options server_options = {}) {
    net::listener l("127.0.0.1", 0);
    pair p;
    p.client = net::connection::connect("127.0.0.1", l.port(), 5.0, client_options);
    const int fd = l.accept(5.0);
    if (fd < 0) throw std::runtime_error("accept timed out");
    p.server = net::connection::adopt(fd, server_options);
    return p;
}

bytes pattern(std::size_t n, std::uint32_t seed) {
    bytes out(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = std::uint8_t(x);
    }
    return out;
}

bytes store_command(std::uint16_t id) {
    return dimse::encode(dimse::c_store_rq(id, "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4." + std::to_string(id)));
}

bytes one_pdv(std::uint8_t context, bool command, bool last, const bytes& data) {
    bytes out(net::p_data_overhead);
    net::write_p_data_header(out.data(), context, command, last, std::uint32_t(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string temp_dir() {
    char name[] = "/tmp/connection_test.XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    return name;
}

// ---------------------------------------------------------------------------

void test_pdu_round_trip() {
    current_test = "pdu_round_trip";
    pair p = make_pair();
    net::associate_rq rq;
    rq.called_ae = "ANY-SCP";
    rq.calling_ae = "TESTSCU";
    rq.contexts.push_back({1, "1.2.840.10008.1.1", {"1.2.840.10008.1.2"}});
    rq.user.max_length = 16384;
    rq.user.implementation_class_uid = "1.2.3.4";
    const std::vector<bytes> pdus = {net::encode(rq), net::encode_release_rq(), net::encode_release_rp(),
                                     net::encode(net::abort_pdu{2, 1}), one_pdv(1, true, true, bytes{1, 2, 3})};
    for (const bytes& pdu : pdus) p.client->send(pdu);
    for (const bytes& pdu : pdus) {
        const net::received_pdu r = p.server->receive(5.0);
        CHECK_EQ(std::uint8_t(r.type), pdu[0]);
        CHECK_EQ(r.body, bytes(pdu.begin() + 6, pdu.end()));
    }
    const net::received_pdu first = [&] {
        p.server->send(pdus[0]);
        return p.client->receive(5.0);
    }();
    const net::associate_rq back = net::decode_associate_rq(first.body.data(), first.body.size());
    CHECK_EQ(back.called_ae, rq.called_ae);
    CHECK_EQ(back.calling_ae, rq.calling_ae);
    CHECK_EQ(back.contexts.size(), std::size_t(1));
    CHECK(back.user.max_length == rq.user.max_length);
    CHECK_EQ(p.server->peer_address(), std::string("127.0.0.1"));
    CHECK(p.server->peer_port() > 0);
    CHECK(p.client->is_open());
    p.client->close();
    CHECK(!p.client->is_open());
    p.client->close();  // idempotent
    expect_error([&] { p.client->send(pdus[1]); }, net_errc::closed, "send after close");
    expect_error([&] { p.server->receive(5.0); }, net_errc::closed, "receive after the peer closed");
}

// Sends a message with `dataset` (or none) with peer maximum `max` and checks every PDU on
// the wire: within the maximum, one PDV, the control headers in order, the bytes equal.
void check_fragmentation(std::uint32_t max, const bytes* dataset) {
    const std::string what = "max " + std::to_string(max) + " data set " +
                             (dataset ? std::to_string(dataset->size()) : std::string("none"));
    net::connection_options server_options;
    server_options.max_pdu_receive = 1 << 20;
    pair p = make_pair({}, server_options);
    const bytes command = dataset ? store_command(1) : dimse::encode(dimse::c_echo_rq(1));
    background sender([&] {
        p.client->send_message(3, command.data(), command.size(), dataset ? dataset->data() : nullptr,
                               dataset ? dataset->size() : 0, max);
    });
    const std::size_t limit = (max == 0 ? 1u << 20 : max);
    bytes got_command, got_dataset;
    bool command_done = false, dataset_done = dataset == nullptr;
    while (!command_done || !dataset_done) {
        const net::received_pdu r = p.server->receive(5.0);
        if (r.type != net::pdu_type::p_data_tf) {
            fail(what + ": not a P-DATA-TF PDU");
            break;
        }
        if (r.body.size() > limit) fail(what + ": PDU of " + std::to_string(r.body.size()) + " bytes");
        const std::vector<net::pdv> pdvs = net::decode_p_data(r.body.data(), r.body.size());
        CHECK_EQ(pdvs.size(), std::size_t(1));
        const net::pdv& v = pdvs[0];
        CHECK_EQ(v.context_id, std::uint8_t(3));
        if (!command_done) {
            if (!v.command) fail(what + ": data set PDV before the command ended");
            got_command.insert(got_command.end(), v.data, v.data + v.size);
            command_done = v.last;
            // A fragment that is not the last is full.
            if (!v.last && r.body.size() != limit) fail(what + ": short command fragment");
        } else {
            if (v.command) fail(what + ": command PDV after the command ended");
            got_dataset.insert(got_dataset.end(), v.data, v.data + v.size);
            dataset_done = v.last;
            if (!v.last && r.body.size() != limit) fail(what + ": short data set fragment");
        }
    }
    sender.join(what);
    CHECK(got_command == command);
    if (dataset && got_dataset != *dataset) fail(what + ": data set differs");
}

void test_fragmentation() {
    current_test = "fragmentation";
    for (std::uint32_t max : {4096u, 16384u, 131072u, 0u}) {
        const std::size_t payload = (max == 0 ? 1u << 20 : max) - 6;
        check_fragmentation(max, nullptr);
        for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(4095), payload - 1, payload,
                                 payload + 1, 2 * payload, std::size_t(3 << 20) + 7}) {
            const bytes data = pattern(size, std::uint32_t(size + max));
            check_fragmentation(max, &data);
        }
    }
    // A command longer than one PDV: fragments 0x01 ... 0x03.
    dimse::command_set c = dimse::c_echo_rq(1);
    c.set_text(dimse::error_comment, std::string(9000, 'x'));
    const bytes command = dimse::encode(c);
    pair p = make_pair();
    background sender([&] { p.client->send_message(1, command.data(), command.size(), nullptr, 0, 4096); });
    bytes got;
    for (int i = 0; i < 3; ++i) {
        const net::received_pdu r = p.server->receive(5.0);
        const auto pdvs = net::decode_p_data(r.body.data(), r.body.size());
        CHECK(pdvs[0].command);
        CHECK_EQ(pdvs[0].last, i == 2);
        got.insert(got.end(), pdvs[0].data, pdvs[0].data + pdvs[0].size);
    }
    sender.join("long command");
    CHECK(got == command);
    // A peer maximum too small for any data.
    expect_error([&] { p.client->send_message(1, command.data(), command.size(), nullptr, 0, 6); },
                 net_errc::protocol, "peer maximum 6");
    // A data set for a command without one; a command that does not decode.
    const bytes one = {1};
    expect_error([&] { p.client->send_message(1, command.data(), command.size(), one.data(), 1, 0); },
                 net_errc::protocol, "data set for a C-ECHO-RQ");
    expect_error([&] { p.client->send_message(1, one.data(), 1, nullptr, 0, 0); }, net_errc::bad_pdu,
                 "command that does not decode");
}

void test_messages() {
    current_test = "messages";
    net::connection_options server_options;
    server_options.max_pdu_receive = 1 << 20;
    pair p = make_pair({}, server_options);
    const std::vector<std::size_t> sizes = {0, 1, 4089, 4090, 4091, 16377, 16378, 16379, 1048570, 1048571,
                                            5 * 1048576 + 3};
    for (std::uint32_t max : {4096u, 16384u, 131072u, 0u}) {
        const std::size_t payload = (max == 0 ? 1u << 20 : max) - 6;
        std::vector<std::size_t> all = sizes;
        all.push_back(payload);
        all.push_back(3 * payload);
        std::vector<bytes> datasets;
        for (std::size_t size : all) datasets.push_back(pattern(size, std::uint32_t(size * 7 + max)));
        const bytes echo = dimse::encode(dimse::c_echo_rq(9));
        background sender([&] {
            std::uint16_t id = 1;
            for (const bytes& d : datasets) {
                const bytes command = store_command(id++);
                p.client->send_message(1, command.data(), command.size(), d.data(), d.size(), max);
                p.client->send_message(3, echo.data(), echo.size(), nullptr, 0, max);
            }
        });
        std::uint16_t id = 1;
        for (const bytes& d : datasets) {
            const std::string what = "max " + std::to_string(max) + " size " + std::to_string(d.size());
            net::receive_result r = p.server->receive_message({1, 3}, 10.0);
            CHECK(r.is_message);
            CHECK_EQ(r.msg.context_id, std::uint8_t(1));
            CHECK(r.msg.command == store_command(id++));
            CHECK(r.msg.has_dataset);
            CHECK_EQ(r.msg.dataset_size, std::uint64_t(d.size()));
            if (r.msg.dataset != d) fail(what + ": data set differs");
            CHECK(r.msg.dataset_path.empty());
            r = p.server->receive_message({1, 3}, 10.0);
            CHECK(r.is_message);
            CHECK_EQ(r.msg.context_id, std::uint8_t(3));
            CHECK(r.msg.command == echo);
            CHECK(!r.msg.has_dataset);
            CHECK(r.msg.dataset.empty());
        }
        sender.join("max " + std::to_string(max));
    }
}

void test_several_messages_in_one_pdu() {
    current_test = "several_messages_in_one_pdu";
    pair p = make_pair();
    // One P-DATA-TF PDU holding two whole C-ECHO-RQs and the first fragment of a C-STORE.
    const bytes echo1 = dimse::encode(dimse::c_echo_rq(1));
    const bytes echo2 = dimse::encode(dimse::c_echo_rq(2));
    const bytes store = store_command(3);
    bytes body;
    auto add_pdv = [&](std::uint8_t header, const bytes& data, std::size_t from, std::size_t n) {
        const std::uint32_t len = std::uint32_t(n + 2);
        for (int i = 0; i < 4; ++i) body.push_back(std::uint8_t(len >> (24 - 8 * i)));
        body.push_back(1);
        body.push_back(header);
        body.insert(body.end(), data.begin() + std::ptrdiff_t(from), data.begin() + std::ptrdiff_t(from + n));
    };
    add_pdv(0x03, echo1, 0, echo1.size());
    add_pdv(0x01, echo2, 0, 10);
    add_pdv(0x03, echo2, 10, echo2.size() - 10);
    add_pdv(0x03, store, 0, store.size());
    add_pdv(0x00, bytes{5, 6, 7}, 0, 3);
    bytes pdu = {0x04, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) pdu[2 + i] = std::uint8_t(body.size() >> (24 - 8 * i));
    pdu.insert(pdu.end(), body.begin(), body.end());
    p.client->send(pdu);
    p.client->send(one_pdv(1, false, true, bytes{8}));
    net::receive_result r = p.server->receive_message({1});
    CHECK(r.is_message && r.msg.command == echo1);
    r = p.server->receive_message({1});
    CHECK(r.is_message && r.msg.command == echo2);
    r = p.server->receive_message({1});
    CHECK(r.is_message && r.msg.command == store);
    CHECK(r.msg.dataset == (bytes{5, 6, 7, 8}));
}

// A data set received into memory: PDUs of one data set PDV are read straight into the
// data set; PDUs of several PDVs, in between, go through the general decoder; a limit, a
// context change or the peer closing midway give the same errors either way.
void test_dataset_in_place() {
    current_test = "dataset_in_place";
    const bytes command = store_command(1);
    const bytes d = pattern(10000, 3);
    {
        // Single-PDV PDUs, then one PDU of two PDVs, then single-PDV PDUs again.
        pair p = make_pair();
        bytes two = one_pdv(1, false, false, bytes(d.begin() + 3000, d.begin() + 4000));
        const bytes second = one_pdv(1, false, false, bytes(d.begin() + 4000, d.begin() + 5000));
        two.insert(two.end(), second.begin() + net::pdu_header_size, second.end());
        const std::uint32_t length = std::uint32_t(two.size() - net::pdu_header_size);
        for (int i = 0; i < 4; ++i) two[2 + i] = std::uint8_t(length >> (24 - 8 * i));
        p.client->send(one_pdv(1, true, true, command));
        for (std::size_t at = 0; at < 3000; at += 1000) {
            const auto from = d.begin() + std::ptrdiff_t(at);
            p.client->send(one_pdv(1, false, false, bytes(from, from + 1000)));
        }
        p.client->send(two);
        p.client->send(one_pdv(1, false, false, bytes(d.begin() + 5000, d.begin() + 9999)));
        p.client->send(one_pdv(1, false, true, bytes(d.begin() + 9999, d.end())));
        const net::receive_result r = p.server->receive_message({1}, 5.0);
        CHECK(r.is_message);
        CHECK_EQ(r.msg.dataset_size, std::uint64_t(d.size()));
        CHECK(r.msg.dataset == d);
    }
    {
        // Over max_dataset in the second PDU.
        net::connection_options small;
        small.max_dataset = 1500;
        pair p = make_pair({}, small);
        p.client->send(one_pdv(1, true, true, command));
        p.client->send(one_pdv(1, false, false, bytes(1000, 1)));
        p.client->send(one_pdv(1, false, true, bytes(501, 2)));
        expect_error([&] { p.server->receive_message({1}, 5.0); }, net_errc::too_large, "max_dataset in memory");
    }
    {
        // A data set PDV on another accepted context.
        pair p = make_pair();
        p.client->send(one_pdv(1, true, true, command));
        p.client->send(one_pdv(1, false, false, bytes(100, 1)));
        p.client->send(one_pdv(3, false, true, bytes(100, 2)));
        expect_error([&] { p.server->receive_message({1, 3}, 5.0); }, net_errc::protocol, "another context");
    }
    {
        // The peer closes inside a payload: the receive fails, and so does the next one.
        pair p = make_pair();
        p.client->send(one_pdv(1, true, true, command));
        const bytes pdu = one_pdv(1, false, true, d);
        p.client->send(pdu.data(), 5000);
        p.client->close();
        expect_error([&] { p.server->receive_message({1}, 5.0); }, net_errc::closed, "closed inside a payload");
        expect_error([&] { p.server->receive_message({1}, 5.0); }, net_errc::protocol, "after a broken PDU");
    }
}

void test_dataset_to_file() {
    current_test = "dataset_to_file";
    const std::string dir = temp_dir();
    pair p = make_pair();
    for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(100001), std::size_t(4 << 20)}) {
        const bytes d = pattern(size, 99);
        const bytes command = store_command(5);
        background sender(
            [&] { p.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 16384); });
        const std::string name = "ds" + std::to_string(size) + ".part";
        const net::receive_result r = p.server->receive_message({1}, 10.0, dir, name);
        sender.join("to file");
        CHECK(r.is_message);
        CHECK_EQ(r.msg.dataset_path, dir + "/" + name);
        CHECK_EQ(r.msg.dataset_size, std::uint64_t(size));
        CHECK(r.msg.dataset.empty());
        CHECK(read_file(dir + "/" + name) == d);
    }
    // The file exists already: io, and the existing file is left alone.
    {
        const bytes command = store_command(6);
        const bytes d = pattern(10, 1);
        p.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 16384);
        expect_error([&] { p.server->receive_message({1}, 5.0, dir, "ds1.part"); }, net_errc::io, "O_EXCL");
        CHECK_EQ(fs::file_size(dir + "/ds1.part"), std::uintmax_t(1));
    }
    expect_error([&] { p.server->receive_message({1}, 5.0, dir, "../x"); }, net_errc::io, "name with a slash");
    fs::remove_all(dir);
}

// Data sets received to files: one that ends inside a PDU holding the next message's
// command, a write that fails (the file size limit), and a peer closing midway leave either
// the whole data set or no file.
void test_dataset_to_file_edges() {
    current_test = "dataset_to_file_edges";
    const std::string dir = temp_dir();
    pair p = make_pair();
    {
        const bytes d = pattern(70000, 3);
        const bytes store1 = store_command(1), store2 = store_command(2);
        bytes body;
        auto add_pdv = [&](std::uint8_t header, const std::uint8_t* data, std::size_t n) {
            const std::uint32_t len = std::uint32_t(n + 2);
            for (int i = 0; i < 4; ++i) body.push_back(std::uint8_t(len >> (24 - 8 * i)));
            body.push_back(1);
            body.push_back(header);
            body.insert(body.end(), data, data + n);
        };
        // PDU 1: command 1 and the first 30,000 bytes; PDU 2: the next 30,000 bytes; PDU 3:
        // the last 10,000 bytes, command 2 and 5 bytes of data set 2; then data set 2's end.
        auto send_body = [&] {
            bytes pdu = {0x04, 0, 0, 0, 0, 0};
            for (int i = 0; i < 4; ++i) pdu[2 + i] = std::uint8_t(body.size() >> (24 - 8 * i));
            pdu.insert(pdu.end(), body.begin(), body.end());
            p.client->send(pdu);
            body.clear();
        };
        add_pdv(0x03, store1.data(), store1.size());
        add_pdv(0x00, d.data(), 30000);
        send_body();
        add_pdv(0x00, d.data() + 30000, 30000);
        send_body();
        add_pdv(0x02, d.data() + 60000, 10000);
        add_pdv(0x03, store2.data(), store2.size());
        add_pdv(0x00, d.data(), 5);
        send_body();
        p.client->send(one_pdv(1, false, true, bytes(d.begin() + 5, d.begin() + 9)));
        net::receive_result r = p.server->receive_message({1}, 10.0, dir, "one.part");
        CHECK(r.is_message && r.msg.command == store1);
        CHECK(read_file(dir + "/one.part") == d);
        r = p.server->receive_message({1}, 10.0, dir, "two.part");
        CHECK(r.is_message && r.msg.command == store2);
        CHECK(read_file(dir + "/two.part") == bytes(d.begin(), d.begin() + 9));
    }
    {
        // Writes past a 1 MiB file size limit fail with EFBIG (SIGXFSZ ignored): io, no file.
        rlimit old{};
        ::getrlimit(RLIMIT_FSIZE, &old);
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = old;
        small.rlim_cur = 1 << 20;
        ::setrlimit(RLIMIT_FSIZE, &small);
        pair q = make_pair();
        const bytes d = pattern(3 << 20, 4);
        const bytes command = store_command(3);
        std::thread sender([&] {
            try {  // fails once the receiver gives up and closes
                q.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 65536);
            } catch (const net::net_error&) {
            }
        });
        expect_error([&] { q.server->receive_message({1}, 10.0, dir, "big.part"); }, net_errc::io, "file size limit");
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, old_handler);
        q.server->close();
        sender.join();
        CHECK(!fs::exists(dir + "/big.part"));
    }
    {
        // The peer closes after 2 MiB of a 3 MiB data set: closed, no file.
        pair q = make_pair();
        const bytes d = pattern(2 << 20, 5);
        const bytes command = store_command(4);
        q.client->send(one_pdv(1, true, true, command));
        for (std::size_t at = 0; at < d.size(); at += 65536) {
            q.client->send(one_pdv(1, false, false, bytes(d.begin() + std::ptrdiff_t(at),
                                                          d.begin() + std::ptrdiff_t(at + 65536))));
        }
        q.client->close();
        expect_error([&] { q.server->receive_message({1}, 10.0, dir, "cut.part"); }, net_errc::closed, "peer closed");
        CHECK(!fs::exists(dir + "/cut.part"));
    }
    fs::remove_all(dir);
}

// A C-STORE received to a file and stored by store_received_file: renamed into the folder
// as <SOP Instance UID>.dcm and answered with Success; requests it must leave to the caller
// (a UID that is no plain file name, a rename that fails, a message without a data set file).
void test_store_received_file() {
    current_test = "store_received_file";
    CHECK(net::is_plain_uid("1.2.840.10008.1.1"));
    CHECK(net::is_plain_uid("7"));
    for (const char* uid : {"", ".", "1.", ".1", "1..2", "1.2a", "../1", "1/2", "1 2"}) CHECK(!net::is_plain_uid(uid));
    CHECK(!net::is_plain_uid(std::string(65, '1')));
    CHECK(net::is_plain_uid(std::string(64, '1')));

    const std::string dir = temp_dir();
    pair p = make_pair();
    net::file_meta_options meta;
    meta.implementation_class_uid = "1.2.3";
    meta.transfer_syntaxes.assign(256, "1.2.840.10008.1.2.1");
    auto receive = [&](std::uint16_t id, const std::string& sop_instance, const bytes& d) {
        const bytes command =
            dimse::encode(dimse::c_store_rq(id, "1.2.840.10008.5.1.4.1.1.7", sop_instance));
        p.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 16384);
        const net::receive_result r = p.server->receive_message({1}, 10.0, dir, ".in" + std::to_string(id), &meta);
        CHECK(r.is_message);
        return r;
    };

    const bytes d = pattern(50000, 8);
    net::receive_result r = receive(1, "1.2.3.4.1", d);
    net::stored_file stored = net::store_received_file(*p.server, r.msg, dir, 16384);
    CHECK(stored.result == net::stored_file::outcome::stored);
    CHECK_EQ(stored.path, dir + "/1.2.3.4.1.dcm");
    CHECK(!fs::exists(dir + "/.in1"));
    const bytes file = read_file(dir + "/1.2.3.4.1.dcm");
    CHECK_EQ(file.size(), std::size_t(r.msg.dataset_offset + d.size()));
    CHECK(bytes(file.begin() + std::ptrdiff_t(r.msg.dataset_offset), file.end()) == d);
    net::receive_result answer = p.client->receive_message({1}, 5.0);
    CHECK(answer.is_message && !answer.msg.has_dataset);
    const dimse::command_set rsp = dimse::decode(answer.msg.command.data(), answer.msg.command.size());
    CHECK(rsp.us(dimse::command_field_tag) == std::uint16_t(dimse::command_field::c_store_rsp));
    CHECK(rsp.us(dimse::message_id_being_responded_to) == std::uint16_t(1));
    CHECK(rsp.us(dimse::status) == std::uint16_t(0));
    CHECK(rsp.text(dimse::affected_sop_instance_uid) == std::string("1.2.3.4.1"));

    // Not stored, nothing sent, the received file left in place.
    r = receive(2, "1.2.3.x", d);
    CHECK(net::store_received_file(*p.server, r.msg, dir, 16384).result == net::stored_file::outcome::not_stored);
    CHECK(fs::exists(dir + "/.in2"));
    fs::create_directories(dir + "/1.2.3.4.3.dcm/inside");  // a non-empty folder: rename fails
    r = receive(3, "1.2.3.4.3", d);
    CHECK(net::store_received_file(*p.server, r.msg, dir, 16384).result == net::stored_file::outcome::not_stored);
    CHECK(fs::exists(dir + "/.in3"));
    r = receive(4, "1.2.3.4.4", d);
    net::message in_memory = r.msg;
    in_memory.dataset_path.clear();
    CHECK(net::store_received_file(*p.server, in_memory, dir, 16384).result == net::stored_file::outcome::not_stored);
    CHECK(!p.client->readable(0.2));  // no response went out for any of them
    fs::remove_all(dir);
}

void test_send_from_file() {
    current_test = "send_from_file";
    const std::string dir = temp_dir();
    const std::string path = dir + "/source.dcm";
    const bytes whole = pattern((6 << 20) + 333, 5);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(whole.data()), std::streamsize(whole.size()));
    }
    net::connection_options server_options;
    server_options.max_pdu_receive = 1 << 20;
    pair p = make_pair({}, server_options);
    struct span {
        std::uint64_t offset, length;
        std::uint32_t max;
    };
    for (const span& s : {span{0, whole.size(), 16384}, span{132, whole.size() - 132, 0}, span{7, 0, 4096},
                          span{1000, 1, 4096}, span{1, (4 << 20) - 6, 131072}}) {
        const bytes command = store_command(2);
        background sender([&] {
            p.client->send_message_from_file(1, command.data(), command.size(), path, s.offset, s.length, s.max);
        });
        const net::receive_result r = p.server->receive_message({1}, 10.0);
        sender.join("from file");
        CHECK(r.is_message && r.msg.command == command);
        const bytes expected(whole.begin() + std::ptrdiff_t(s.offset),
                             whole.begin() + std::ptrdiff_t(s.offset + s.length));
        if (r.msg.dataset != expected) fail("from file: offset " + std::to_string(s.offset) + " differs");
    }
    const bytes command = store_command(2);
    expect_error([&] { p.client->send_message_from_file(1, command.data(), command.size(), path, 10, whole.size(), 0); },
                 net_errc::io, "file too short");
    expect_error([&] { p.client->send_message_from_file(1, command.data(), command.size(), dir + "/none", 0, 1, 0); },
                 net_errc::io, "no such file");
    fs::remove_all(dir);
}

void test_peer_stops_or_closes() {
    current_test = "peer_stops_or_closes";
    {
        pair p = make_pair();
        const bytes pdu = one_pdv(1, true, true, bytes(100, 1));
        p.client->send(pdu.data(), 50);
        const double t = expect_error([&] { p.server->receive(0.2); }, net_errc::timeout, "stops mid-PDU");
        if (t < 0.15 || t > 1.5) fail("timeout took " + std::to_string(t) + " s");
        // The stream is out of step now: further receives refuse.
        expect_error([&] { p.server->receive(0.2); }, net_errc::protocol, "after a timeout mid-PDU");
    }
    {
        // The network timeout of the options, and a timeout inside the header.
        net::connection_options o;
        o.network_timeout = 0.2;
        pair p = make_pair({}, o);
        p.client->send(bytes{0x04, 0x00, 0x00});
        const double t = expect_error([&] { p.server->receive(); }, net_errc::timeout, "stops mid-header");
        if (t < 0.15 || t > 1.5) fail("timeout took " + std::to_string(t) + " s");
        // Nothing of the PDU was consumed: the rest arrives and it is whole.
        p.client->send(bytes{0x00, 0x00, 0x04, 1, 2, 3, 4});
        CHECK(p.server->receive().body == (bytes{1, 2, 3, 4}));
    }
    {
        pair p = make_pair();
        const bytes pdu = one_pdv(1, true, true, bytes(100, 1));
        p.client->send(pdu.data(), 50);
        p.client->close();
        expect_error([&] { p.server->receive(5.0); }, net_errc::closed, "closes mid-PDU");
    }
    {
        pair p = make_pair();
        p.client->send(bytes{0x04, 0x00});
        p.client->close();
        expect_error([&] { p.server->receive(5.0); }, net_errc::closed, "closes mid-header");
    }
    {
        // Mid-message, into a file: the partial file is removed.
        const std::string dir = temp_dir();
        pair p = make_pair();
        const bytes command = store_command(1);
        p.client->send(one_pdv(1, true, true, command));
        p.client->send(one_pdv(1, false, false, bytes(1000, 2)));
        expect_error([&] { p.server->receive_message({1}, 0.2, dir, "x.part"); }, net_errc::timeout,
                     "timeout mid-message");
        CHECK(!fs::exists(dir + "/x.part"));
        fs::remove_all(dir);
    }
}

void test_limits() {
    current_test = "limits";
    net::connection_options o;
    o.max_pdu_receive = 16384;
    {
        pair p = make_pair({}, o);
        p.client->send(bytes{0x04, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0});
        tracking = true;
        largest_allocation = 0;
        expect_error([&] { p.server->receive(5.0); }, net_errc::too_large, "P-DATA-TF over the limit");
        tracking = false;
        if (largest_allocation > 64 * 1024) {
            fail("allocated " + std::to_string(largest_allocation) + " bytes for a refused PDU");
        }
    }
    {
        pair p = make_pair({}, o);
        p.client->send(bytes{0x04, 0x00, 0x00, 0x00, 0x40, 0x01});  // 16385
        expect_error([&] { p.server->receive(5.0); }, net_errc::too_large, "P-DATA-TF one over");
        pair q = make_pair({}, o);
        const bytes at_limit = one_pdv(1, false, false, bytes(16384 - 6, 3));
        q.client->send(at_limit);
        CHECK_EQ(q.server->receive(5.0).body.size(), std::size_t(16384));
    }
    for (std::uint8_t type : {0x01, 0x02, 0x05, 0x07}) {
        pair p = make_pair({}, o);
        p.client->send(bytes{type, 0x00, 0x00, 0x80, 0x00, 0x01});  // 8 MiB
        tracking = true;
        largest_allocation = 0;
        expect_error([&] { p.server->receive(5.0); }, net_errc::too_large, "PDU type " + std::to_string(type));
        tracking = false;
        if (largest_allocation > 64 * 1024) fail("allocated " + std::to_string(largest_allocation) + " bytes");
    }
    for (std::uint8_t type : {0x00, 0x08, 0xFF}) {
        pair p = make_pair({}, o);
        p.client->send(bytes{type, 0x00, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0});
        expect_error([&] { p.server->receive(5.0); }, net_errc::bad_pdu, "unknown type " + std::to_string(type));
    }
    {
        // max_command and max_dataset; the partial file goes.
        const std::string dir = temp_dir();
        net::connection_options small;
        small.max_command = 200;
        small.max_dataset = 1000;
        pair p = make_pair({}, small);
        dimse::command_set c = dimse::c_echo_rq(1);
        c.set_text(dimse::error_comment, std::string(200, 'x'));
        const bytes big_command = dimse::encode(c);
        p.client->send_message(1, big_command.data(), big_command.size(), nullptr, 0, 4096);
        expect_error([&] { p.server->receive_message({1}); }, net_errc::too_large, "max_command");
        pair q = make_pair({}, small);
        const bytes command = store_command(1);
        const bytes d = pattern(1001, 1);
        const bytes ok = pattern(1000, 1);
        q.client->send_message(1, command.data(), command.size(), ok.data(), ok.size(), 4096);
        CHECK(q.server->receive_message({1}).msg.dataset == ok);
        q.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 4096);
        expect_error([&] { q.server->receive_message({1}, 5.0, dir, "big.part"); }, net_errc::too_large, "max_dataset");
        CHECK(!fs::exists(dir + "/big.part"));
        fs::remove_all(dir);
    }
}

void test_protocol_errors() {
    current_test = "protocol_errors";
    const bytes command = store_command(1);
    const bytes echo = dimse::encode(dimse::c_echo_rq(1));
    auto run = [&](const std::vector<bytes>& pdus, const std::string& what) {
        const std::string dir = temp_dir();
        pair p = make_pair();
        for (const bytes& pdu : pdus) p.client->send(pdu);
        expect_error([&] { p.server->receive_message({1, 3}, 5.0, dir, "p.part"); }, net_errc::protocol, what);
        if (fs::exists(dir + "/p.part")) fail(what + ": partial file left");
        fs::remove_all(dir);
    };
    run({one_pdv(5, true, true, echo)}, "unknown context");
    run({one_pdv(1, true, false, bytes(command.begin(), command.begin() + 20)),
         one_pdv(3, true, true, bytes(command.begin() + 20, command.end()))},
        "context changes inside the command");
    run({one_pdv(1, true, true, command), one_pdv(3, false, true, bytes{1})}, "data set on another context");
    run({one_pdv(1, false, true, bytes{1})}, "data set before the command");
    run({one_pdv(1, true, false, bytes(command.begin(), command.begin() + 20)), one_pdv(1, false, true, bytes{1})},
        "data set before the command's last fragment");
    run({one_pdv(1, true, true, command), one_pdv(1, true, true, command)}, "command after the command");
    run({one_pdv(1, true, true, command), one_pdv(1, false, false, bytes{1}), one_pdv(1, true, true, command)},
        "command inside the data set");
    // A data set PDV after a command without a data set starts no new message: the
    // command completes the message, and the stray PDV is refused by the next call.
    {
        pair p = make_pair();
        p.client->send(one_pdv(1, true, true, echo));
        p.client->send(one_pdv(1, false, true, bytes{1}));
        CHECK(p.server->receive_message({1}).is_message);
        expect_error([&] { p.server->receive_message({1}); }, net_errc::protocol, "stray data set PDV");
    }
    // A malformed command set: bad_pdu from dimse::decode.
    {
        pair p = make_pair();
        p.client->send(one_pdv(1, true, true, bytes{1, 2, 3}));
        expect_error([&] { p.server->receive_message({1}); }, net_errc::bad_pdu, "malformed command");
    }
}

void test_other_pdu() {
    current_test = "other_pdu";
    const std::string dir = temp_dir();
    pair p = make_pair();
    const bytes command = store_command(1);
    p.client->send(one_pdv(1, true, true, command));
    p.client->send(one_pdv(1, false, false, bytes(5000, 7)));
    p.client->send(net::encode(net::abort_pdu{2, 6}));
    net::receive_result r = p.server->receive_message({1}, 5.0, dir, "a.part");
    CHECK(!r.is_message);
    CHECK(r.other.type == net::pdu_type::abort);
    const net::abort_pdu a = net::decode_abort(r.other.body.data(), r.other.body.size());
    CHECK_EQ(a.source, std::uint8_t(2));
    CHECK_EQ(a.reason, std::uint8_t(6));
    CHECK(!fs::exists(dir + "/a.part"));
    // A release request between messages.
    p.client->send(net::encode_release_rq());
    r = p.server->receive_message({1}, 5.0, dir, "b.part");
    CHECK(!r.is_message && r.other.type == net::pdu_type::release_rq);
    CHECK_EQ(r.other.body.size(), std::size_t(4));
    CHECK(fs::is_empty(dir));
    fs::remove_all(dir);
}

void test_close_from_another_thread() {
    current_test = "close_from_another_thread";
    pair p = make_pair();
    background closer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        p.server->close();
    });
    const double t = expect_error([&] { p.server->receive(30.0); }, net_errc::closed, "receive woken by close");
    closer.join("closer");
    if (t > 2.0) fail("close took " + std::to_string(t) + " s to wake receive");
    CHECK(!p.server->is_open());
    expect_error([&] { p.client->receive(5.0); }, net_errc::closed, "peer sees the close");

    // A blocked receive_message into a file, and a send blocked on a full socket buffer.
    const std::string dir = temp_dir();
    pair q = make_pair();
    const bytes command = store_command(1);
    q.client->send(one_pdv(1, true, true, command));
    background closer2([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        q.server->close();
    });
    expect_error([&] { q.server->receive_message({1}, 30.0, dir, "c.part"); }, net_errc::closed,
                 "receive_message woken by close");
    closer2.join("closer2");
    CHECK(!fs::exists(dir + "/c.part"));
    fs::remove_all(dir);

    net::connection_options o;
    o.socket_buffer = 64 * 1024;
    pair r = make_pair(o, o);
    const bytes big = pattern(64 << 20, 3);
    background closer3([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        r.client->close();
    });
    const double t3 = expect_error(
        [&] { r.client->send_message(1, command.data(), command.size(), big.data(), big.size(), 16384); },
        net_errc::closed, "send woken by close");
    closer3.join("closer3");
    if (t3 > 2.0) fail("close took " + std::to_string(t3) + " s to wake send");
}

void test_listener() {
    current_test = "listener";
    net::listener l("127.0.0.1", 0);
    CHECK(l.port() > 0);
    auto start = std::chrono::steady_clock::now();
    CHECK_EQ(l.accept(0.1), -1);
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t < 0.08 || t > 1.0) fail("accept timeout took " + std::to_string(t) + " s");
    // A second listener on the same port fails; a connection arrives.
    expect_error([&] { net::listener second("127.0.0.1", l.port()); }, net_errc::io, "port in use");
    auto c = net::connection::connect("localhost", l.port(), 5.0, {});
    const int fd = l.accept(5.0);
    CHECK(fd >= 0);
    auto s = net::connection::adopt(fd, {});
    CHECK(s->peer_port() > 0 && s->peer_port() != l.port());
    CHECK_EQ(c->peer_port(), l.port());
    // close() from another thread wakes a blocked accept.
    background closer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        l.close();
    });
    start = std::chrono::steady_clock::now();
    CHECK_EQ(l.accept(30.0), -1);
    closer.join("listener closer");
    t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t > 2.0) fail("listener close took " + std::to_string(t) + " s to wake accept");
    CHECK_EQ(l.accept(1.0), -1);
    // Nothing listens now.
    const int port = l.port();
    expect_error([&] { net::connection::connect("127.0.0.1", port, 5.0, {}); }, net_errc::io, "refused");
    expect_error([&] { net::connection::connect("no-such-host.invalid", 104, 5.0, {}); }, net_errc::io,
                 "unknown host");
    // Any address, IPv4 or IPv6 as the system has them.
    net::listener any("", 0);
    auto c2 = net::connection::connect("127.0.0.1", any.port(), 5.0, {});
    const int fd2 = any.accept(5.0);
    CHECK(fd2 >= 0);
    if (fd2 >= 0) net::connection::adopt(fd2, {});
}

void test_throughput() {
    current_test = "throughput";
    // Not a check: a figure to compare while changing the code (see benchmarks/ for peers).
    net::connection_options o;
    o.max_pdu_receive = 131072;
    pair p = make_pair(o, o);
    const bytes d = pattern(64 << 20, 11);
    const bytes command = store_command(1);
    const int rounds = 8;
    const auto start = std::chrono::steady_clock::now();
    background sender([&] {
        for (int i = 0; i < rounds; ++i) p.client->send_message(1, command.data(), command.size(), d.data(), d.size(), 131072);
    });
    for (int i = 0; i < rounds; ++i) {
        const net::receive_result r = p.server->receive_message({1}, 10.0);
        CHECK_EQ(r.msg.dataset_size, std::uint64_t(d.size()));
    }
    sender.join("throughput");
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("connection_test: %d x 64 MiB over loopback with 128 KiB PDUs: %.0f MiB/s\n", rounds,
                rounds * 64 / t);
}

}  // namespace

int main() {
    turbodicom::test::run({
        test_pdu_round_trip, test_fragmentation,   test_messages,  test_several_messages_in_one_pdu,
        test_dataset_in_place,
        test_dataset_to_file, test_dataset_to_file_edges, test_store_received_file, test_send_from_file, test_peer_stops_or_closes, test_limits,
        test_protocol_errors, test_other_pdu,      test_close_from_another_thread, test_listener,
        test_throughput,
    });
    return turbodicom::test::exit_code("connection_test");
}
