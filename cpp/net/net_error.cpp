#include "net/net_error.hpp"

namespace turbodicom::net {

const char* net_errc_name(net_errc code) noexcept {
    switch (code) {
        case net_errc::truncated: return "truncated";
        case net_errc::bad_pdu: return "bad PDU";
        case net_errc::bad_item: return "bad item";
        case net_errc::too_large: return "too large";
        case net_errc::closed: return "closed";
        case net_errc::timeout: return "timeout";
        case net_errc::io: return "I/O error";
        case net_errc::protocol: return "protocol error";
    }
    return "unknown";
}

net_error::net_error(net_errc code, std::uint64_t offset, const std::string& detail)
    : std::runtime_error(std::string(net_errc_name(code)) + " at byte " + std::to_string(offset) + ": " + detail),
      code_(code), offset_(offset), detail_(detail) {}

void fail(net_errc code, std::uint64_t offset, const std::string& detail) {
    throw net_error(code, offset, detail);
}

}  // namespace turbodicom::net
