// A C-STORE of a stored file: File Meta read here, the command built with dimse::c_store_rq,
// the data set sent from the file, and the response received (PS3.7 9.1.1, 9.3.1).
#include "net/store_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "net/dimse.hpp"

namespace turbodicom::net {

namespace {

constexpr std::size_t meta_head = 16384;  // bytes read for the meta group

// The first bytes of a file; nullopt when it cannot be opened or read.
std::optional<std::vector<std::uint8_t>> read_head(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::vector<std::uint8_t> head(meta_head);
    std::size_t got = 0;
    while (got < head.size()) {
        const ssize_t n = ::pread(fd, head.data() + got, head.size() - got, off_t(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        got += std::size_t(n);
    }
    ::close(fd);
    head.resize(got);
    return head;
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return std::uint64_t(st.st_size);
}

}  // namespace

const scu_context* context_for(const std::vector<scu_context>& contexts, const std::string& sop_class,
                               const std::string& transfer_syntax) {
    for (const scu_context& c : contexts) {
        if (c.abstract_syntax == sop_class && c.transfer_syntax == transfer_syntax) return &c;
    }
    return nullptr;
}

c_store_file_outcome c_store_file(connection& c, const std::vector<scu_context>& contexts,
                                  const std::vector<std::uint8_t>& accepted, const c_store_file_request& request,
                                  std::uint32_t peer_max_pdu, double response_timeout) {
    c_store_file_outcome out;
    const auto head = read_head(request.path);
    if (!head) return out;
    const auto meta = read_part10_meta(head->data(), head->size());
    if (!meta) return out;
    const scu_context* context = context_for(contexts, meta->sop_class, meta->transfer_syntax);
    if (context == nullptr) return out;
    const std::uint64_t size = file_size(request.path);
    if (size < meta->dataset_offset) return out;

    const std::vector<std::uint8_t> command = dimse::encode(
        dimse::c_store_rq(request.message_id, meta->sop_class, meta->sop_instance, request.priority,
                          request.move_originator_ae, request.move_originator_id));
    out.meta = *meta;
    out.context_id = context->id;
    out.sent = true;
    c.send_message_from_file(context->id, command.data(), command.size(), request.path, meta->dataset_offset,
                             size - meta->dataset_offset, peer_max_pdu);
    try {
        out.response = c.receive_message(accepted, response_timeout);
    } catch (const net_error& e) {
        throw response_error(e);
    }
    return out;
}

}  // namespace turbodicom::net
