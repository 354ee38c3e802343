// One TCP connection of the DICOM upper layer (PS3.8 section 9) over POSIX sockets: PDUs
// in and out, and DIMSE messages split into and reassembled from P-DATA-TF PDVs (PS3.8
// 9.3.5, Annex E). Sockets are non-blocking; every wait is a poll() bounded by a timeout.
#include "net/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "net/dimse.hpp"
#include "net/net_error.hpp"

namespace turbodicom::net {

namespace {

constexpr std::size_t read_buffer_size = 256 * 1024;
// PDUs other than P-DATA-TF: an A-ASSOCIATE-RQ/AC with 128 presentation contexts of a
// dozen transfer syntaxes each and a large user identity stays well under this.
constexpr std::uint32_t max_association_pdu = 512 * 1024;
constexpr std::uint32_t max_small_pdu = 64 * 1024;  // A-ASSOCIATE-RJ, A-RELEASE-*, A-ABORT (4 bytes each)
constexpr std::uint32_t default_peer_max = 1 << 20;  // when the peer says 0 (no limit)
constexpr std::size_t upfront_body = 1 << 20;         // larger bodies grow as their bytes arrive
constexpr int batch_pdus = 64;                        // PDUs per sendmsg
constexpr std::size_t batch_bytes = 8 << 20;          // bytes per sendmsg (soft)
// send_message_from_file's read size: about one 128 KiB PDU at a time, so that the first
// PDU is on its way while the rest is read (the peer starts receiving and writing sooner;
// with the whole file read first, 500 CT slices went over loopback about 12% slower).
constexpr std::size_t file_chunk = 128 << 10;
constexpr std::uint64_t dataset_reserve = 4 << 20;    // first capacity of an in-memory data set

constexpr double no_deadline = std::numeric_limits<double>::infinity();

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double deadline_after(double seconds) { return seconds > 0 ? now() + seconds : no_deadline; }

std::string errno_text(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

[[noreturn]] void fail_errno(const char* what, int err) {
    if (err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ESHUTDOWN) {
        fail(net_errc::closed, 0, errno_text(what, err));
    }
    fail(net_errc::io, 0, errno_text(what, err));
}

// Waits until `fd` is ready for `events` or the deadline passes (net_error timeout).
void wait_for(int fd, short events, double deadline) {
    for (;;) {
        int ms = -1;
        if (deadline != no_deadline) {
            const double left = deadline - now();
            if (left <= 0) fail(net_errc::timeout, 0, "no progress within the network timeout");
            ms = int(std::min(std::ceil(left * 1000.0), 2.0e9));
        }
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, ms);
        if (r > 0) {
            if (p.revents & POLLNVAL) fail(net_errc::closed, 0, "socket closed");
            return;  // ready, or POLLHUP/POLLERR: the next call reports what happened
        }
        if (r == 0) {
            if (deadline != no_deadline && now() >= deadline) {
                fail(net_errc::timeout, 0, "no progress within the network timeout");
            }
            continue;
        }
        if (errno != EINTR) fail_errno("poll", errno);
    }
}

void set_socket_options(int fd, const connection_options& options) {
    const int one = 1;
    // DCMTK and Orthanc wait on Nagle's algorithm otherwise: ~40 ms per small PDU.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (options.socket_buffer > 0) {
        const int size = options.socket_buffer;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
}

// Asks the kernel to acknowledge what arrives at once instead of delaying the ACK. A peer
// that leaves Nagle's algorithm on (DCMTK and Orthanc without TCP_NODELAY=1) holds the
// second half of a small PDU until the first is acknowledged: with delayed ACKs here, every
// response would wait ~40 ms. Linux clears the flag by itself, so it is set before each wait.
void request_quick_ack(int fd) {
#ifdef TCP_QUICKACK
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

// After a read that returned `n` <= 0: fails when the peer closed (0, reported as `closed`)
// or on an error of `call`; waits for more bytes (asking for a quick ACK first) when there
// are none yet. The caller then reads again.
void await_more(ssize_t n, int fd, double deadline, const char* call,
                const char* closed = "peer closed the connection inside a PDU") {
    if (n == 0) fail(net_errc::closed, 0, closed);
    if (errno == EINTR) return;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        request_quick_ack(fd);
        wait_for(fd, POLLIN, deadline);
        return;
    }
    fail_errno(call, errno);
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fail_errno("fcntl", errno);
}

// Writes all of `iov` (modified as it goes): one sendmsg per round, waiting for room while
// the socket buffer is full. The deadline restarts whenever some bytes go out.
void send_all(int fd, iovec* iov, int count, double timeout) {
    double deadline = deadline_after(timeout);
    while (count > 0) {
        msghdr m{};
        m.msg_iov = iov;
        m.msg_iovlen = std::size_t(std::min(count, IOV_MAX));
        const ssize_t n = ::sendmsg(fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_for(fd, POLLOUT, deadline);
                continue;
            }
            fail_errno("send", errno);
        }
        std::size_t sent = std::size_t(n);
        while (count > 0 && sent >= iov->iov_len) {
            sent -= iov->iov_len;
            ++iov;
            --count;
        }
        if (count > 0 && sent > 0) {
            iov->iov_base = static_cast<std::uint8_t*>(iov->iov_base) + sent;
            iov->iov_len -= sent;
        }
        if (n > 0) deadline = deadline_after(timeout);
    }
}

// P-DATA-TF PDUs gathered for one sendmsg: each PDU is its 12 header bytes and a slice
// of the caller's data, which is never copied.
class pdu_batch {
public:
    pdu_batch(int fd, double timeout) : fd_(fd), timeout_(timeout) {}

    void add(std::uint8_t context_id, bool command, bool last, const std::uint8_t* data, std::size_t size) {
        if (count_ == batch_pdus) flush();
        std::uint8_t* header = headers_[count_];
        write_p_data_header(header, context_id, command, last, std::uint32_t(size));
        iov_[2 * count_] = {header, p_data_overhead};
        iov_[2 * count_ + 1] = {const_cast<std::uint8_t*>(data), size};
        ++count_;
        bytes_ += size;
        if (bytes_ >= batch_bytes) flush();
    }

    // Splits `data` into PDVs of at most `payload` bytes; at least one PDV, possibly empty.
    void add_fragments(std::uint8_t context_id, bool command, const std::uint8_t* data, std::size_t size,
                       std::size_t payload, bool last_of_all = true) {
        std::size_t pos = 0;
        do {
            const std::size_t n = std::min(payload, size - pos);
            add(context_id, command, last_of_all && pos + n == size, data + pos, n);
            pos += n;
        } while (pos < size);
    }

    void flush() {
        if (count_ == 0) return;
        send_all(fd_, iov_, 2 * count_, timeout_);
        count_ = 0;
        bytes_ = 0;
    }

private:
    int fd_;
    double timeout_;
    int count_ = 0;
    std::size_t bytes_ = 0;
    std::uint8_t headers_[batch_pdus][p_data_overhead];
    iovec iov_[2 * batch_pdus];
};

// Data per PDV so that a PDU of one PDV stays within the peer's Maximum Length (PS3.8
// 9.3.5: the PDU length counts the PDV item's 4-byte length, context id, control header).
std::size_t pdv_payload(std::uint32_t peer_max_pdu) {
    const std::uint32_t max = peer_max_pdu == 0 ? default_peer_max : peer_max_pdu;
    if (max <= 6) fail(net_errc::protocol, 0, "peer maximum PDU length " + std::to_string(max) + " leaves no room for data");
    return std::size_t(max) - 6;
}

std::uint32_t body_limit(std::uint8_t type, std::uint32_t max_pdu_receive) {
    switch (pdu_type(type)) {
        case pdu_type::p_data_tf: return max_pdu_receive == 0 ? 0xFFFFFFFFu : max_pdu_receive;
        case pdu_type::associate_rq:
        case pdu_type::associate_ac: return max_association_pdu;
        case pdu_type::associate_rj:
        case pdu_type::release_rq:
        case pdu_type::release_rp:
        case pdu_type::abort: return max_small_pdu;
    }
    return 0;
}

void write_all(int fd, const std::uint8_t* data, std::size_t size, const std::string& path) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(net_errc::io, 0, errno_text(("writing " + path).c_str(), errno));
        }
        data += n;
        size -= std::size_t(n);
    }
}

// The data set file of receive_message: removed unless the message completes.
class dataset_file {
public:
    ~dataset_file() { discard(); }
    void open(const std::string& path) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0) fail(net_errc::io, 0, errno_text(("creating " + path).c_str(), errno));
        path_ = path;
    }
    void write(const std::uint8_t* data, std::size_t size) { write_all(fd_, data, size, path_); }
    int fd() const { return fd_; }
    void commit() {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) {
            const int err = errno;
            ::unlink(path_.c_str());
            fail(net_errc::io, 0, errno_text(("closing " + path_).c_str(), err));
        }
    }
    void discard() {
        if (fd_ < 0) return;
        ::close(fd_);
        ::unlink(path_.c_str());
        fd_ = -1;
    }

private:
    int fd_ = -1;
    std::string path_;
};

}  // namespace

// Holds the socket open for the length of a call: close() from another thread shuts the
// socket down at once (waking the call), and the last user closes the descriptor, so that
// its number is never reused under a running call.
class connection::fd_use {
public:
    explicit fd_use(connection& c) : c_(c) {
        std::lock_guard<std::mutex> lock(c_.mutex_);
        if (c_.fd_ < 0 || c_.closing_) fail(net_errc::closed, 0, "connection closed");
        ++c_.users_;
        fd = c_.fd_;
    }
    ~fd_use() {
        std::lock_guard<std::mutex> lock(c_.mutex_);
        if (--c_.users_ == 0 && c_.closing_ && c_.fd_ >= 0) {
            ::close(c_.fd_);
            c_.fd_ = -1;
        }
    }
    fd_use(const fd_use&) = delete;
    fd_use& operator=(const fd_use&) = delete;
    int fd;

private:
    connection& c_;
};

connection::connection(int fd, const connection_options& options) : fd_(fd), options_(options) {
    read_buffer_.resize(read_buffer_size);
}

connection::~connection() {
    close();
    for (int& end : pipe_) {
        if (end >= 0) ::close(end);
    }
}

std::unique_ptr<connection> connection::adopt(int fd, const connection_options& options) {
    if (fd < 0) fail(net_errc::io, 0, "adopt: invalid socket");
    try {
        set_nonblocking(fd);
    } catch (...) {
        ::close(fd);
        throw;
    }
    set_socket_options(fd, options);
    return std::unique_ptr<connection>(new connection(fd, options));
}

std::unique_ptr<connection> connection::connect(const std::string& host, int port, double timeout,
                                                const connection_options& options) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) fail(net_errc::io, 0, "resolving " + host + ": " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);

    const double deadline = deadline_after(timeout);
    std::string last_error = "no address for " + host;
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_error = errno_text("socket", errno);
            continue;
        }
        set_socket_options(fd, options);  // before connect: the receive window is set at SYN
        int err = 0;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS || err == EINTR) {
                try {
                    wait_for(fd, POLLOUT, deadline);
                } catch (...) {
                    ::close(fd);
                    throw;
                }
                socklen_t len = sizeof err;
                if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            }
        }
        if (err == 0) return std::unique_ptr<connection>(new connection(fd, options));
        ::close(fd);
        last_error = errno_text(("connecting to " + host + ":" + service).c_str(), err);
    }
    fail(net_errc::io, 0, last_error);
}

void connection::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0 || closing_) return;
    closing_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes a thread blocked in poll on this socket
    if (users_ == 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool connection::readable(double timeout) {
    if (pdata_next_ < pdata_pending_.size() || read_pos_ < read_end_) return true;
    fd_use use(*this);
    pollfd p{use.fd, POLLIN, 0};
    const int ms = timeout <= 0 ? 0 : int(std::min(std::ceil(timeout * 1000.0), 2.0e9));
    for (;;) {
        const int r = ::poll(&p, 1, ms);
        if (r >= 0) return r > 0;
        if (errno != EINTR) fail_errno("poll", errno);
    }
}

bool connection::is_open() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return fd_ >= 0 && !closing_;
}

std::string connection::peer_address() const {
    fd_use use(const_cast<connection&>(*this));
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(use.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail_errno("getpeername", errno);
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    } else if (addr.ss_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
    }
    return text;
}

int connection::peer_port() const {
    fd_use use(const_cast<connection&>(*this));
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(use.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail_errno("getpeername", errno);
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    return 0;
}

void connection::send(const std::uint8_t* data, std::size_t size) {
    fd_use use(*this);
    iovec iov{const_cast<std::uint8_t*>(data), size};
    send_all(use.fd, &iov, 1, options_.network_timeout);
}

// ---------------------------------------------------------------------------
// Receiving

// Reads what the socket has into the free end of the read buffer (at least one byte, at
// most `most`).
void connection::fill_read_buffer(int fd, double deadline, std::size_t most) {
    if (read_pos_ == read_end_) {
        read_pos_ = read_end_ = 0;
    } else if (read_pos_ > 0) {
        std::memmove(read_buffer_.data(), read_buffer_.data() + read_pos_, read_end_ - read_pos_);
        read_end_ -= read_pos_;
        read_pos_ = 0;
    }
    for (;;) {
        const ssize_t n =
            ::recv(fd, read_buffer_.data() + read_end_, std::min(read_buffer_.size() - read_end_, most), 0);
        if (n > 0) {
            read_end_ += std::size_t(n);
            return;
        }
        await_more(n, fd, deadline, "recv", "peer closed the connection");
    }
}

// Reads one PDU: its type is returned and its body left in `body` (resized; its capacity
// is reused). The length is checked against the limits before anything is allocated, and a
// body over 1 MiB (possible only when max_pdu_receive allows it) grows as its bytes arrive.
// The rest of the body is read with one readv into [body, read buffer], so that the bulk
// lands where it belongs and the next PDU's header comes with the same call.
std::uint8_t connection::receive_into(std::vector<std::uint8_t>& body, double timeout, int fd) {
    if (rx_broken_) fail(net_errc::protocol, 0, "an earlier receive stopped inside a PDU");
    const double deadline = deadline_after(timeout > 0 ? timeout : options_.network_timeout);
    while (read_end_ - read_pos_ < pdu_header_size) fill_read_buffer(fd, deadline);

    const pdu_header header = read_header(read_buffer_.data() + read_pos_);
    if (header.type < 0x01 || header.type > 0x07) {
        rx_broken_ = true;
        fail(net_errc::bad_pdu, 0, "unknown PDU type " + std::to_string(header.type));
    }
    const std::uint32_t limit = body_limit(header.type, options_.max_pdu_receive);
    if (header.length > limit) {
        rx_broken_ = true;
        fail(net_errc::too_large, 2,
             "PDU of type " + std::to_string(header.type) + " with length " + std::to_string(header.length) +
                 " over the limit of " + std::to_string(limit));
    }
    read_pos_ += pdu_header_size;
    rx_broken_ = true;  // until the body is complete

    const std::size_t length = header.length;
    body.resize(std::min(length, upfront_body));
    std::size_t filled = std::min(read_end_ - read_pos_, length);
    if (filled > body.size()) body.resize(filled);  // at most the read buffer's size
    if (filled) std::memcpy(body.data(), read_buffer_.data() + read_pos_, filled);
    read_pos_ += filled;
    if (read_pos_ == read_end_) read_pos_ = read_end_ = 0;

    while (filled < length) {
        if (filled == body.size()) body.resize(std::min(length, std::max(body.size() * 2, upfront_body)));
        // Here the read buffer is empty (all of it went into the body), so it starts at 0.
        iovec iov[2] = {{body.data() + filled, body.size() - filled},
                        {read_buffer_.data(), body.size() == length ? read_buffer_.size() : 0}};
        const ssize_t n = ::readv(fd, iov, iov[1].iov_len ? 2 : 1);
        if (n > 0) {
            const std::size_t into_body = std::min(std::size_t(n), body.size() - filled);
            filled += into_body;
            read_end_ = std::size_t(n) - into_body;
            continue;
        }
        await_more(n, fd, deadline, "recv");
    }
    rx_broken_ = false;
    return header.type;
}

// Only the 12 header bytes are looked at (read on their own, so that the payload stays in
// the socket); anything else than one data set PDV of the message (another PDU type,
// several PDVs, a command fragment, another context, a length over a limit) gives nullopt
// having consumed nothing, and the caller takes the PDU the usual way, which checks and
// reports it.
std::optional<connection::dataset_pdv> connection::next_dataset_pdv(const message& msg, const bool allowed[256],
                                                                     double deadline, int fd) {
    if (rx_broken_) return std::nullopt;
    while (read_end_ - read_pos_ < pdu_header_size) fill_read_buffer(fd, deadline, p_data_overhead);
    const pdu_header header = read_header(read_buffer_.data() + read_pos_);
    if (pdu_type(header.type) != pdu_type::p_data_tf || header.length < 6 ||
        header.length > body_limit(header.type, options_.max_pdu_receive)) {
        return std::nullopt;
    }
    while (read_end_ - read_pos_ < p_data_overhead) {
        fill_read_buffer(fd, deadline, p_data_overhead - (read_end_ - read_pos_));
    }
    const std::uint8_t* item = read_buffer_.data() + read_pos_ + pdu_header_size;
    const std::uint32_t item_length = (std::uint32_t(item[0]) << 24) | (std::uint32_t(item[1]) << 16) |
                                      (std::uint32_t(item[2]) << 8) | std::uint32_t(item[3]);
    const std::uint8_t context_id = item[4];
    const std::uint8_t control = item[5];
    if (std::uint64_t(item_length) + 4 != header.length || item_length < 2 || (control & 0x01) != 0 ||
        (control & 0xFC) != 0 || context_id != msg.context_id || !allowed[context_id]) {
        return std::nullopt;
    }
    const std::size_t size = item_length - 2;
    if (size > options_.max_dataset - std::min(options_.max_dataset, msg.dataset_size)) return std::nullopt;
    return dataset_pdv{size, (control & 0x02) != 0};
}

// A data set PDV (see next_dataset_pdv) moved from the socket to the data set's file with
// splice(2) through a pipe: the kernel hands the socket's pages to the file without a copy
// into this process. Returns as receive_pdv_in_place. Where splice is refused, the bytes go
// through the read buffer, which is empty while the payload is read.
int connection::receive_pdv_to_file(message& msg, const bool allowed[256], double timeout, int fd, int file,
                                    const std::string& path) {
    const double deadline = deadline_after(timeout > 0 ? timeout : options_.network_timeout);
    const std::optional<dataset_pdv> pdv = next_dataset_pdv(msg, allowed, deadline, fd);
    if (!pdv) return 0;
    if (pipe_[0] < 0) {
        if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) return 0;
        ::fcntl(pipe_[1], F_SETPIPE_SZ, 1 << 20);  // best effort: at least 64 KiB otherwise
    }
    read_pos_ += p_data_overhead;
    rx_broken_ = true;  // until the payload is complete
    const std::size_t size = pdv->size;
    std::size_t filled = std::min(read_end_ - read_pos_, size);
    if (filled) write_all(file, read_buffer_.data() + read_pos_, filled, path);
    read_pos_ += filled;
    if (read_pos_ == read_end_) read_pos_ = read_end_ = 0;
    while (filled < size) {
        ssize_t n;
        if (no_splice_) {  // the rest of this PDU the usual way
            n = ::recv(fd, read_buffer_.data(), std::min(size - filled, read_buffer_.size()), 0);
            if (n > 0) {
                write_all(file, read_buffer_.data(), std::size_t(n), path);
                filled += std::size_t(n);
                continue;
            }
        } else {
            n = ::splice(fd, nullptr, pipe_[1], nullptr, size - filled, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                move_pipe_to_file(std::size_t(n), file, path);
                filled += std::size_t(n);
                continue;
            }
            if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {  // not for this socket
                no_splice_ = true;
                continue;
            }
        }
        await_more(n, fd, deadline, no_splice_ ? "recv" : "splice");
    }
    rx_broken_ = false;
    msg.dataset_size += size;
    return pdv->last ? 2 : 1;
}

// Writes the `n` bytes in the pipe to `file`: spliced, or read and written where the file
// system does not take splice (EINVAL), which then stays off for this connection.
void connection::move_pipe_to_file(std::size_t n, int file, const std::string& path) {
    while (n > 0) {
        const ssize_t m = no_splice_ ? -1 : ::splice(pipe_[0], nullptr, file, nullptr, n, SPLICE_F_MOVE);
        if (m > 0) {
            n -= std::size_t(m);
            continue;
        }
        if (m < 0 && errno == EINTR && !no_splice_) continue;
        if (m == 0 || (!no_splice_ && errno != EINVAL && errno != ENOSYS)) {
            fail(net_errc::io, 0, errno_text(("writing " + path).c_str(), m < 0 ? errno : EIO));
        }
        no_splice_ = true;
        const ssize_t r = ::read(pipe_[0], read_buffer_.data(), std::min(n, read_buffer_.size()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail(net_errc::io, 0, errno_text("reading the splice pipe", r < 0 ? errno : EIO));
        write_all(file, read_buffer_.data(), std::size_t(r), path);
        n -= std::size_t(r);
    }
}

// The usual P-DATA-TF of a data set received into memory: one PDV (see next_dataset_pdv),
// whose payload is read straight to the end of msg.dataset, without passing through the
// read buffer or a PDU body. Returns 0 when the PDU is not such (nothing consumed), 1 for a
// fragment, 2 for the last one.
int connection::receive_pdv_in_place(message& msg, const bool allowed[256], double timeout, int fd) {
    const double deadline = deadline_after(timeout > 0 ? timeout : options_.network_timeout);
    const std::optional<dataset_pdv> pdv = next_dataset_pdv(msg, allowed, deadline, fd);
    if (!pdv) return 0;
    const std::size_t size = pdv->size;

    read_pos_ += p_data_overhead;
    rx_broken_ = true;  // until the payload is complete
    std::vector<std::uint8_t>& data = msg.dataset;
    const std::size_t start = data.size();
    if (data.capacity() - start < size) {
        // Grow in large steps, as the copying path does.
        const std::uint64_t want = std::max<std::uint64_t>(
            {std::uint64_t(start) + size, 2 * std::uint64_t(data.capacity()), dataset_reserve});
        data.reserve(std::size_t(
            std::min(want, std::max<std::uint64_t>(options_.max_dataset, std::uint64_t(start) + size))));
    }
    data.resize(start + size);
    std::size_t filled = std::min(read_end_ - read_pos_, size);
    if (filled) std::memcpy(data.data() + start, read_buffer_.data() + read_pos_, filled);
    read_pos_ += filled;
    if (read_pos_ == read_end_) read_pos_ = read_end_ = 0;
    while (filled < size) {
        // The read buffer is empty here; the next PDU's headers may come with the same call.
        iovec iov[2] = {{data.data() + start + filled, size - filled}, {read_buffer_.data(), p_data_overhead}};
        const ssize_t n = ::readv(fd, iov, 2);
        if (n > 0) {
            const std::size_t into_data = std::min(std::size_t(n), size - filled);
            filled += into_data;
            read_end_ = std::size_t(n) - into_data;
            continue;
        }
        try {
            await_more(n, fd, deadline, "recv");
        } catch (...) {
            data.resize(start);
            throw;
        }
    }
    rx_broken_ = false;
    msg.dataset_size += size;
    return pdv->last ? 2 : 1;
}

received_pdu connection::receive(double timeout) {
    fd_use use(*this);
    received_pdu out{};
    out.type = pdu_type(receive_into(out.body, timeout, use.fd));
    return out;
}

// ---------------------------------------------------------------------------
// DIMSE messages

// Whether data set PDVs follow the command: what its Command Data Set Type says, as the
// receiver will read it; a data set for a command without one is refused.
bool dataset_to_send(const std::uint8_t* command, std::size_t command_size, std::uint64_t dataset_size) {
    const bool follows = dimse::decode(command, command_size).dataset_follows();
    if (!follows && dataset_size > 0) {
        fail(net_errc::protocol, 0, "a data set given for a command whose Command Data Set Type is 0101H");
    }
    return follows;
}

void connection::send_message(std::uint8_t context_id, const std::uint8_t* command, std::size_t command_size,
                              const std::uint8_t* dataset, std::size_t dataset_size, std::uint32_t peer_max_pdu) {
    const std::size_t payload = pdv_payload(peer_max_pdu);
    const bool with_dataset = dataset_to_send(command, command_size, dataset_size);
    fd_use use(*this);
    pdu_batch batch(use.fd, options_.network_timeout);
    batch.add_fragments(context_id, true, command, command_size, payload);  // PS3.8 E.2: 0x01, last 0x03
    if (with_dataset) batch.add_fragments(context_id, false, dataset, dataset_size, payload);  // 0x00, last 0x02
    batch.flush();
}

void connection::send_message_from_file(std::uint8_t context_id, const std::uint8_t* command,
                                        std::size_t command_size, const std::string& path, std::uint64_t offset,
                                        std::uint64_t length, std::uint32_t peer_max_pdu) {
    const std::size_t payload = pdv_payload(peer_max_pdu);
    const bool with_dataset = dataset_to_send(command, command_size, length);
    const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file < 0) fail(net_errc::io, 0, errno_text(("opening " + path).c_str(), errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_file{file};
    struct stat st {};
    if (::fstat(file, &st) != 0) fail(net_errc::io, 0, errno_text(("stat " + path).c_str(), errno));
    if (offset > std::uint64_t(st.st_size) || length > std::uint64_t(st.st_size) - offset) {
        fail(net_errc::io, 0, path + " is shorter than the data set to send");
    }
    ::posix_fadvise(file, off_t(offset), off_t(length), POSIX_FADV_SEQUENTIAL);

    // Whole PDV payloads per chunk, so that only the data set's last PDV is short.
    const std::size_t chunk = std::max<std::size_t>(1, file_chunk / payload) * payload;
    const std::size_t buffer_size = std::size_t(std::min<std::uint64_t>(chunk, length));
    if (file_buffer_.size() < buffer_size) file_buffer_.resize(buffer_size);

    fd_use use(*this);
    pdu_batch batch(use.fd, options_.network_timeout);
    batch.add_fragments(context_id, true, command, command_size, payload);
    if (with_dataset && length == 0) batch.add(context_id, false, true, nullptr, 0);
    std::uint64_t done = 0;
    while (done < length) {
        const std::size_t want = std::size_t(std::min<std::uint64_t>(buffer_size, length - done));
        std::size_t got = 0;
        while (got < want) {
            const ssize_t n = ::pread(file, file_buffer_.data() + got, want - got, off_t(offset + done + got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(net_errc::io, 0, errno_text(("reading " + path).c_str(), errno));
            if (n == 0) fail(net_errc::io, 0, path + " became shorter while being sent");
            got += std::size_t(n);
        }
        done += want;
        batch.add_fragments(context_id, false, file_buffer_.data(), want, payload, done == length);
        batch.flush();  // the buffer is reused by the next chunk
    }
    batch.flush();
}

namespace {

void put_element(std::vector<std::uint8_t>& out, std::uint16_t element, const char vr[2], const std::string& value,
                 char pad) {
    std::string padded = value;
    if (padded.size() % 2) padded.push_back(pad);
    if (padded.size() > 0xFFFF) fail(net_errc::bad_pdu, 0, "a File Meta value over 64 KiB");
    const std::uint8_t head[8] = {0x02, 0x00, std::uint8_t(element & 0xFF), std::uint8_t(element >> 8),
                                  std::uint8_t(vr[0]), std::uint8_t(vr[1]), std::uint8_t(padded.size() & 0xFF),
                                  std::uint8_t(padded.size() >> 8)};
    out.insert(out.end(), head, head + 8);
    out.insert(out.end(), padded.begin(), padded.end());
}

}  // namespace

std::vector<std::uint8_t> part10_header(const std::string& sop_class, const std::string& sop_instance,
                                        const std::string& transfer_syntax, const file_meta_options& meta) {
    std::vector<std::uint8_t> group;
    // (0002,0001) File Meta Information Version: OB, 4-byte length form.
    const std::uint8_t version[14] = {0x02, 0x00, 0x01, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 0x00, 0x01};
    group.insert(group.end(), version, version + 14);
    put_element(group, 0x0002, "UI", sop_class, '\0');
    put_element(group, 0x0003, "UI", sop_instance, '\0');
    put_element(group, 0x0010, "UI", transfer_syntax, '\0');
    put_element(group, 0x0012, "UI", meta.implementation_class_uid, '\0');
    if (!meta.implementation_version_name.empty())
        put_element(group, 0x0013, "SH", meta.implementation_version_name, ' ');
    if (!meta.source_ae.empty()) put_element(group, 0x0016, "AE", meta.source_ae, ' ');

    std::vector<std::uint8_t> out(128, 0);
    out.insert(out.end(), {'D', 'I', 'C', 'M'});
    const std::uint32_t length = std::uint32_t(group.size());
    const std::uint8_t group_length[12] = {0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0, std::uint8_t(length & 0xFF),
                                           std::uint8_t((length >> 8) & 0xFF), std::uint8_t((length >> 16) & 0xFF),
                                           std::uint8_t(length >> 24)};
    out.insert(out.end(), group_length, group_length + 12);
    out.insert(out.end(), group.begin(), group.end());
    return out;
}

receive_result connection::receive_message(const std::vector<std::uint8_t>& accepted, double timeout,
                                           const std::string& dataset_dir, const std::string& dataset_name,
                                           const file_meta_options* file_meta) {
    bool allowed[256] = {};
    for (std::uint8_t id : accepted) allowed[id] = true;
    const bool to_file = !dataset_dir.empty();
    std::string path;
    if (to_file) {
        if (dataset_name.empty() || dataset_name == "." || dataset_name == ".." ||
            dataset_name.find('/') != std::string::npos) {
            fail(net_errc::io, 0, "invalid data set file name '" + dataset_name + "'");
        }
        path = dataset_dir + "/" + dataset_name;
    }

    fd_use use(*this);
    receive_result out;
    message& msg = out.msg;
    dataset_file file;
    bool have_context = false;
    bool command_done = false;
    bool dataset_follows = false;
    std::uint64_t pdu_offset = 0;  // for error offsets: bytes of P-DATA bodies before this PDU

    for (;;) {
        if (pdata_next_ >= pdata_pending_.size()) {
            pdata_pending_.clear();
            pdata_next_ = 0;
            if (command_done && dataset_follows && !(to_file && no_splice_)) {
                const std::uint64_t before = msg.dataset_size;
                const int in_place = to_file ? receive_pdv_to_file(msg, allowed, timeout, use.fd, file.fd(), path)
                                             : receive_pdv_in_place(msg, allowed, timeout, use.fd);
                if (in_place == 2) {
                    if (to_file) file.commit();
                    out.is_message = true;
                    return out;
                }
                if (in_place == 1) {
                    pdu_offset += msg.dataset_size - before + 6;  // the PDU's body: PDV header and payload
                    continue;
                }
            }
            const std::uint8_t type = receive_into(pdata_body_, timeout, use.fd);
            if (pdu_type(type) != pdu_type::p_data_tf) {
                file.discard();
                out.other.type = pdu_type(type);
                out.other.body = std::move(pdata_body_);
                pdata_body_ = {};
                return out;
            }
            pdata_pending_ = decode_p_data(pdata_body_.data(), pdata_body_.size());
        }
        while (pdata_next_ < pdata_pending_.size()) {
            const pdv& v = pdata_pending_[pdata_next_++];
            const std::uint64_t where = pdu_offset + std::uint64_t(v.data - pdata_body_.data());
            if (!allowed[v.context_id]) {
                fail(net_errc::protocol, where,
                     "PDV for presentation context " + std::to_string(v.context_id) + ", which was not accepted");
            }
            if (!have_context) {
                msg.context_id = v.context_id;
                have_context = true;
            } else if (v.context_id != msg.context_id) {
                fail(net_errc::protocol, where,
                     "PDV for presentation context " + std::to_string(v.context_id) + " inside a message on context " +
                         std::to_string(msg.context_id));
            }
            if (v.command) {
                if (command_done) fail(net_errc::protocol, where, "command fragment after the command's last fragment");
                if (v.size > options_.max_command - std::min<std::uint64_t>(options_.max_command, msg.command.size())) {
                    fail(net_errc::too_large, where,
                         "command set over the limit of " + std::to_string(options_.max_command) + " bytes");
                }
                msg.command.insert(msg.command.end(), v.data, v.data + v.size);
                if (!v.last) continue;
                command_done = true;
                const dimse::command_set command = dimse::decode(msg.command.data(), msg.command.size());
                dataset_follows = command.dataset_follows();
                msg.has_dataset = dataset_follows;
                if (!dataset_follows) {
                    out.is_message = true;
                    return out;
                }
                if (to_file) {
                    file.open(path);
                    msg.dataset_path = path;
                    if (file_meta != nullptr) {
                        const std::string syntax = msg.context_id < file_meta->transfer_syntaxes.size()
                                                       ? file_meta->transfer_syntaxes[msg.context_id]
                                                       : std::string();
                        const std::vector<std::uint8_t> header =
                            part10_header(command.text(dimse::affected_sop_class_uid).value_or(""),
                                          command.text(dimse::affected_sop_instance_uid).value_or(""), syntax,
                                          *file_meta);
                        file.write(header.data(), header.size());
                        msg.dataset_offset = header.size();
                    }
                }
                continue;
            }
            if (!command_done) fail(net_errc::protocol, where, "data set fragment before the command's last fragment");
            if (!dataset_follows) fail(net_errc::protocol, where, "data set fragment for a command without a data set");
            if (v.size > options_.max_dataset - std::min(options_.max_dataset, msg.dataset_size)) {
                fail(net_errc::too_large, where,
                     "data set over the limit of " + std::to_string(options_.max_dataset) + " bytes");
            }
            if (to_file) {
                file.write(v.data, v.size);
            } else {
                if (msg.dataset.capacity() - msg.dataset.size() < v.size) {
                    // Grow in large steps: untouched capacity costs address space only, while
                    // each regrowth copies the data and faults in fresh pages.
                    const std::uint64_t want = std::max<std::uint64_t>(
                        {msg.dataset.size() + v.size, 2 * std::uint64_t(msg.dataset.capacity()), dataset_reserve});
                    msg.dataset.reserve(std::size_t(std::min(want, std::max<std::uint64_t>(
                                                                        options_.max_dataset, msg.dataset.size() + v.size))));
                }
                msg.dataset.insert(msg.dataset.end(), v.data, v.data + v.size);
            }
            msg.dataset_size += v.size;
            if (v.last) {
                if (to_file) file.commit();
                out.is_message = true;
                return out;
            }
        }
        pdu_offset += pdata_body_.size();
    }
}

// ---------------------------------------------------------------------------
// Listener

listener::listener(const std::string& host, int port, int backlog) : fd_(-1), port_(0) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) fail(net_errc::io, 0, "resolving " + host + ": " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);

    std::string last_error = "no address for " + host;
    for (addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_error = errno_text("socket", errno);
            continue;
        }
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, backlog) != 0) {
            last_error = errno_text(("listening on " + host + ":" + service).c_str(), errno);
            ::close(fd);
            continue;
        }
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
        fd_ = fd;
        return;
    }
    fail(net_errc::io, 0, last_error);
}

listener::~listener() { close(); }

int listener::accept(double timeout) {
    int fd;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (fd_ < 0 || closing_) return -1;
        ++users_;
        fd = fd_;
    }
    struct release {
        listener& l;
        ~release() {
            std::lock_guard<std::mutex> lock(l.mutex_);
            if (--l.users_ == 0 && l.closing_ && l.fd_ >= 0) {
                ::close(l.fd_);
                l.fd_ = -1;
            }
        }
    } release_on_exit{*this};
    auto closing = [this] {
        std::lock_guard<std::mutex> lock(mutex_);
        return closing_;
    };

    const double deadline = deadline_after(timeout);
    for (;;) {
        try {
            wait_for(fd, POLLIN, deadline);
        } catch (const net_error& e) {
            if (e.code() == net_errc::timeout) return -1;
            throw;
        }
        if (closing()) return -1;
        const int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client >= 0) return client;
        if (closing()) return -1;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
            continue;
        }
        fail_errno("accept", errno);
    }
}

void listener::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0 || closing_) return;
    closing_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes a thread blocked in accept's poll
    if (users_ == 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace turbodicom::net
