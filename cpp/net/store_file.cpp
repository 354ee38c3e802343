// A C-STORE of a stored file: File Meta read here, the command built with dimse::c_store_rq,
// the data set sent from the file, and the response received (PS3.7 9.1.1, 9.3.1).
#include "net/store_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

struct file_identity {
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t modified_ns = 0;
};

file_identity identity_of(const struct stat& st) {
    return {std::uint64_t(st.st_dev), std::uint64_t(st.st_ino), std::uint64_t(st.st_size),
            std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

void file_prefetch::load(const std::string& path) {
    valid_ = false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || std::uint64_t(st.st_size) > max_size) {
        ::close(fd);
        return;
    }
    const file_identity id = identity_of(st);
    data_.resize(std::size_t(id.size));
    std::size_t got = 0;
    while (got < data_.size()) {
        const ssize_t n = ::pread(fd, data_.data() + got, data_.size() - got, off_t(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += std::size_t(n);
    }
    ::close(fd);
    if (got != data_.size()) return;
    path_ = path;
    device_ = id.device;
    inode_ = id.inode;
    size_ = id.size;
    modified_ns_ = id.modified_ns;
    valid_ = true;
}

const std::vector<std::uint8_t>* file_prefetch::find(const std::string& path) const {
    if (!valid_ || path != path_) return nullptr;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return nullptr;
    const file_identity id = identity_of(st);
    if (id.device != device_ || id.inode != inode_ || id.size != size_ || id.modified_ns != modified_ns_) {
        return nullptr;
    }
    return &data_;
}

void file_prefetch::clear() {
    valid_ = false;
    path_.clear();
    std::vector<std::uint8_t>().swap(data_);
}

const scu_context* context_for(const std::vector<scu_context>& contexts, const std::string& sop_class,
                               const std::string& transfer_syntax) {
    for (const scu_context& c : contexts) {
        if (c.abstract_syntax == sop_class && c.transfer_syntax == transfer_syntax) return &c;
    }
    return nullptr;
}

c_store_file_outcome c_store_file(connection& c, const std::vector<scu_context>& contexts,
                                  const std::vector<std::uint8_t>& accepted, const c_store_file_request& request,
                                  std::uint32_t peer_max_pdu, double response_timeout, file_prefetch* prefetch,
                                  const std::string& next_path) {
    c_store_file_outcome out;
    const std::vector<std::uint8_t>* whole = prefetch != nullptr ? prefetch->find(request.path) : nullptr;
    std::optional<std::vector<std::uint8_t>> head;
    if (whole == nullptr) {
        head = read_head(request.path);
        if (!head) return out;
    }
    const std::uint8_t* start = whole != nullptr ? whole->data() : head->data();
    const auto meta = read_part10_meta(start, whole != nullptr ? std::min(whole->size(), meta_head) : head->size());
    if (!meta) return out;
    const scu_context* context = context_for(contexts, meta->sop_class, meta->transfer_syntax);
    if (context == nullptr) return out;
    const std::uint64_t size = whole != nullptr ? whole->size() : file_size(request.path);
    if (size < meta->dataset_offset) return out;

    const std::vector<std::uint8_t> command = dimse::encode(
        dimse::c_store_rq(request.message_id, meta->sop_class, meta->sop_instance, request.priority,
                          request.move_originator_ae, request.move_originator_id));
    out.meta = *meta;
    out.context_id = context->id;
    out.sent = true;
    if (whole != nullptr) {
        c.send_message(context->id, command.data(), command.size(), whole->data() + meta->dataset_offset,
                       std::size_t(size - meta->dataset_offset), peer_max_pdu);
    } else {
        c.send_message_from_file(context->id, command.data(), command.size(), request.path, meta->dataset_offset,
                                 size - meta->dataset_offset, peer_max_pdu);
    }
    if (prefetch != nullptr) {  // the data set is in the socket's hands: the buffer is free
        if (next_path.empty()) {
            prefetch->clear();
        } else {
            prefetch->load(next_path);
        }
    }
    try {
        for (;;) {
            out.response = c.receive_message(accepted, response_timeout);
            if (!out.response.is_message) break;
            const std::vector<std::uint8_t>& bytes = out.response.msg.command;
            const dimse::command_set command = dimse::decode(bytes.data(), bytes.size());
            if (command.us(dimse::command_field_tag) != std::uint16_t(dimse::command_field::c_cancel_rq)) break;
            out.cancelled.push_back(command.us(dimse::message_id_being_responded_to).value_or(0));
        }
    } catch (const net_error& e) {
        throw response_error(e);
    }
    return out;
}

bool is_plain_uid(const std::string& uid) {
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.') return false;
    for (std::size_t i = 0; i < uid.size(); ++i) {
        const char ch = uid[i];
        if (ch == '.') {
            if (uid[i - 1] == '.') return false;
        } else if (ch < '0' || ch > '9') {
            return false;
        }
    }
    return true;
}

namespace {

// fsync of a file or folder by name; the errno of the failing call, or 0.
int sync_path(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return errno;
    const int err = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

bool printable_ascii(const std::string& text) {
    for (const char ch : text) {
        if (ch < 0x20 || ch > 0x7E) return false;
    }
    return true;
}

}  // namespace

stored_file store_received_file(connection& c, const message& msg, const std::string& folder,
                                std::uint32_t peer_max_pdu) {
    stored_file out;
    if (msg.dataset_path.empty() || folder.empty()) return out;
    const dimse::command_set command = dimse::decode(msg.command.data(), msg.command.size());
    const auto field = command.us(dimse::command_field_tag);
    const auto id = command.us(dimse::message_id);
    const auto sop_class = command.text(dimse::affected_sop_class_uid);
    const auto sop_instance = command.text(dimse::affected_sop_instance_uid);
    if (field != std::uint16_t(dimse::command_field::c_store_rq) || !id || !sop_class || sop_class->empty() ||
        !printable_ascii(*sop_class) || !sop_instance || !is_plain_uid(*sop_instance)) {
        return out;
    }
    if (sync_path(msg.dataset_path, O_RDONLY) != 0) return out;
    const std::string target = folder + "/" + *sop_instance + ".dcm";
    if (::rename(msg.dataset_path.c_str(), target.c_str()) != 0) return out;
    out.path = target;
    if (const int err = sync_path(folder, O_RDONLY | O_DIRECTORY)) {
        out.result = stored_file::outcome::failed;
        out.error = std::string("flushing the folder: ") + std::strerror(err);
        return out;
    }
    const std::vector<std::uint8_t> response =
        dimse::encode(dimse::c_store_rsp(*id, 0x0000, *sop_class, *sop_instance));
    out.result = stored_file::outcome::stored;  // also when sending fails (net_error): the file is kept
    c.send_message(msg.context_id, response.data(), response.size(), nullptr, 0, peer_max_pdu);
    return out;
}

}  // namespace turbodicom::net
