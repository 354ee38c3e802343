// A C-STORE of a DICOM file's data set as it is stored (PS3.7 9.1.1, 9.3.1), done in one
// call: read the file's meta group, pick the accepted presentation context with its SOP
// Class and transfer syntax, send the C-STORE-RQ and the data set from the file, and wait
// for the next message (the response) or the PDU that ends the association.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/connection.hpp"
#include "net/net_error.hpp"
#include "net/part10_meta.hpp"

namespace turbodicom::net {

// An accepted presentation context on which we may send requests.
struct scu_context {
    std::uint8_t id = 0;
    std::string abstract_syntax;
    std::string transfer_syntax;
};

struct c_store_file_request {
    std::string path;
    std::uint16_t message_id = 1;
    std::uint16_t priority = 0;
    std::string move_originator_ae;                       // omitted when empty
    std::optional<std::uint16_t> move_originator_id;
};

struct c_store_file_outcome {
    bool sent = false;           // false: nothing was sent (see c_store_file)
    std::uint8_t context_id = 0;
    part10_meta meta;
    receive_result response;     // the response message, or the PDU that came instead
};

// A net_error raised while waiting for the response: the request went out whole.
class response_error : public net_error {
public:
    explicit response_error(const net_error& e) : net_error(e) {}
};

// The context to send a data set of `sop_class` in `transfer_syntax` on: the first of
// `contexts` with both; nullptr when there is none.
const scu_context* context_for(const std::vector<scu_context>& contexts, const std::string& sop_class,
                               const std::string& transfer_syntax);

// Sends `request.path` as a C-STORE when its meta group can be read (read_part10_meta on its
// first 16 KiB) and a context has its SOP Class and transfer syntax; otherwise returns with
// `sent` false having sent nothing (the caller falls back to reading the file; a file that
// cannot be opened also comes back unsent). The response is received as
// connection::receive_message does, PDVs allowed on the `accepted` context ids, within
// `response_timeout` for each PDU. Errors while sending: net_error as
// connection::send_message_from_file; while receiving: response_error carrying the
// receive's net_error.
c_store_file_outcome c_store_file(connection& c, const std::vector<scu_context>& contexts,
                                  const std::vector<std::uint8_t>& accepted, const c_store_file_request& request,
                                  std::uint32_t peer_max_pdu, double response_timeout);

}  // namespace turbodicom::net
