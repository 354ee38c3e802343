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
    std::vector<std::uint16_t> cancelled;  // Message IDs of the C-CANCEL-RQs that came before it
};

// A net_error raised while waiting for the response: the request went out whole.
class response_error : public net_error {
public:
    explicit response_error(const net_error& e) : net_error(e) {}
};

// A file read ahead, while the peer handles the C-STORE before it (a C-GET or C-MOVE knows
// its next file): its bytes, and what identified it when read (device, inode, size,
// modification time), so that a file changed since is read again instead.
class file_prefetch {
public:
    static constexpr std::uint64_t max_size = 64ull << 20;  // larger files are not read ahead

    // Reads `path` whole; best effort: a file that cannot be read, or is too large, is not kept.
    void load(const std::string& path);
    // The bytes of `path` when they were read ahead and the file is still the same; else nullptr.
    const std::vector<std::uint8_t>* find(const std::string& path) const;
    // Forgets the file (and gives back its memory).
    void clear();

private:
    std::string path_;
    std::uint64_t device_ = 0, inode_ = 0, size_ = 0;
    std::int64_t modified_ns_ = 0;
    std::vector<std::uint8_t> data_;
    bool valid_ = false;
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
// `response_timeout` for each PDU; C-CANCEL-RQs arriving first (the C-STORE being a
// sub-operation of a C-GET) are noted in `cancelled` and the wait goes on. Errors while sending: net_error as
// connection::send_message_from_file; while receiving: response_error carrying the
// receive's net_error.
// With `prefetch`: the file's bytes are taken from it when it holds them, and once the
// request is sent, `next_path` (when not empty) is read into it while the peer works on
// this one; an empty `next_path` clears it.
c_store_file_outcome c_store_file(connection& c, const std::vector<scu_context>& contexts,
                                  const std::vector<std::uint8_t>& accepted, const c_store_file_request& request,
                                  std::uint32_t peer_max_pdu, double response_timeout,
                                  file_prefetch* prefetch = nullptr, const std::string& next_path = "");

// A C-STORE-RQ whose data set receive_message wrote to a file (msg.dataset_path, File Meta
// first), stored as a storage SCP that keeps files stores it: the file flushed to disk,
// renamed to <folder>/<Affected SOP Instance UID>.dcm (replacing an instance received
// before), the folder flushed, and only then a C-STORE-RSP with Success sent.
struct stored_file {
    enum class outcome {
        not_stored,  // nothing done: not such a request, a UID that is not a plain file name, or the
                     // flush or rename failed (the file is where receive_message left it)
        stored,      // renamed, flushed, and the response sent
        failed,      // renamed, but the folder could not be flushed: no response sent
    };
    outcome result = outcome::not_stored;
    std::string path;   // where the file is, when renamed
    std::string error;  // failed: why
};
stored_file store_received_file(connection& c, const message& msg, const std::string& folder,
                                std::uint32_t peer_max_pdu);

// Whether `uid` can name a file: 1 to 64 characters, digits in groups separated by dots.
bool is_plain_uid(const std::string& uid);

}  // namespace turbodicom::net
