// Errors of the network layer: a PDU or message that breaks PS3.8, with the byte offset
// within the PDU where it was found.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace turbodicom::net {

enum class net_errc {
    truncated,      // a PDU, item or sub-item ends before its declared length
    bad_pdu,        // an unknown PDU type, or a field with a value PS3.8 does not allow
    bad_item,       // an item or sub-item of the wrong type or length where one is required
    too_large,      // a PDU or message over the negotiated or configured limit
    closed,         // the peer closed the connection
    timeout,        // nothing arrived within the time allowed
    io,             // a socket error
    protocol,       // a valid PDU at the wrong time (the state machine's A-ABORT cases)
};

const char* net_errc_name(net_errc code) noexcept;

class net_error : public std::runtime_error {
public:
    net_error(net_errc code, std::uint64_t offset, const std::string& detail);
    net_errc code() const noexcept { return code_; }
    std::uint64_t offset() const noexcept { return offset_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    net_errc code_;
    std::uint64_t offset_;
    std::string detail_;
};

[[noreturn]] void fail(net_errc code, std::uint64_t offset, const std::string& detail);

}  // namespace turbodicom::net
