// One TCP connection of the DICOM upper layer: PDUs in and out, and DIMSE messages split
// into and reassembled from P-DATA-TF PDUs. Plain POSIX sockets; every call blocks the
// calling thread (the bindings release the GIL) and is bounded by a timeout.
//
// Threads: one thread may receive while another sends; close() may come from any thread
// at any time and wakes a blocked call (net_error closed). Two concurrent receives, or two
// concurrent sends, are not allowed.
// Errors: after a net_error from receive / receive_message other than a timeout that came
// before any byte of a PDU (and, for receive_message, before any PDV of the message), the
// byte stream is out of step; the caller should abort (send A-ABORT if it can) and close.
// A send that fails may have sent part of a PDU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/pdu.hpp"

namespace turbodicom::net {

struct connection_options {
    double network_timeout = 60.0;           // seconds a read or write may wait; <= 0: no limit
    int socket_buffer = 4 << 20;             // SO_SNDBUF / SO_RCVBUF, bytes (0: system default)
    std::uint32_t max_pdu_receive = 1 << 20; // our Maximum Length: larger P-DATA-TF PDUs are refused
    std::uint64_t max_command = 1 << 16;     // bytes of one command set
    std::uint64_t max_dataset = std::uint64_t(4) << 30;  // bytes of one data set held in memory or written
};

// A PDU as received: its type and body (the bytes after the 6-byte header).
struct received_pdu {
    pdu_type type;
    std::vector<std::uint8_t> body;
};

// A DIMSE message reassembled from PDVs.
struct message {
    std::uint8_t context_id = 0;
    std::vector<std::uint8_t> command;   // the encoded command set
    bool has_dataset = false;
    std::vector<std::uint8_t> dataset;   // the data set bytes, when received into memory
    std::string dataset_path;            // or the file they were written to
    std::uint64_t dataset_offset = 0;    // where the data set starts in that file
    std::uint64_t dataset_size = 0;
};

// What a data set file written by receive_message starts with, when the caller asks for
// DICOM files: a preamble, 'DICM' and a File Meta Information group made from the command
// (SOP Class and Instance UIDs), the context's transfer syntax and these values.
struct file_meta_options {
    std::string implementation_class_uid;
    std::string implementation_version_name;
    std::string source_ae;                     // (0002,0016), omitted when empty
    std::vector<std::string> transfer_syntaxes;  // by presentation context id (256 entries)
};

// The bytes of a Part 10 file before its data set (PS3.10 7.1), Explicit VR Little Endian.
std::vector<std::uint8_t> part10_header(const std::string& sop_class, const std::string& sop_instance,
                                        const std::string& transfer_syntax, const file_meta_options& meta);

// What receive_message returns: a message, or the PDU that interrupted it (A-RELEASE-RQ,
// A-RELEASE-RP, A-ABORT, or an unexpected A-ASSOCIATE-*), whose handling is the caller's.
struct receive_result {
    bool is_message = false;
    message msg;
    received_pdu other;
};

class connection {
public:
    // Connects to host:port (IPv4 or IPv6, numeric or by name) within `timeout` seconds.
    static std::unique_ptr<connection> connect(const std::string& host, int port, double timeout,
                                               const connection_options& options);
    // Takes over an accepted socket (the caller no longer owns `fd`).
    static std::unique_ptr<connection> adopt(int fd, const connection_options& options);

    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Sends bytes as they are (a whole PDU); throws net_error(timeout / io / closed). The
    // network timeout bounds each wait for room in the socket buffer (it restarts whenever
    // bytes go out).
    void send(const std::uint8_t* data, std::size_t size);
    void send(const std::vector<std::uint8_t>& pdu) { send(pdu.data(), pdu.size()); }

    // Receives one PDU within `timeout` seconds (<= 0: the network timeout; both <= 0: no
    // limit). Refuses, before allocating anything, a P-DATA-TF PDU longer than
    // max_pdu_receive (0: 4 GiB; bodies over 1 MiB then grow as their bytes arrive), an
    // A-ASSOCIATE-RQ/AC over 512 KiB and any other PDU over 64 KiB (net_error too_large), an
    // unknown type (bad_pdu). The peer closing gives net_error closed.
    received_pdu receive(double timeout = 0);

    // Sends one DIMSE message on presentation context `context_id`: the command, then the
    // data set (if any), each split into PDVs so that no PDU exceeds `peer_max_pdu` (the
    // peer's Maximum Length; 0 = no limit, then a default of 1 MiB is used). Data set PDVs
    // follow when the command's Command Data Set Type says so (as the receiver reads it):
    // then `dataset` is the data set, and 0 bytes give one empty last PDV; a data set of
    // more than 0 bytes for a command without one is net_error protocol, a command set that
    // does not decode net_error bad_pdu. The PDUs go out with sendmsg, header and data slice
    // as separate iovecs, several PDUs per call, without copying the data set. A peer
    // maximum of 6 or less: net_error protocol.
    void send_message(std::uint8_t context_id, const std::uint8_t* command, std::size_t command_size,
                      const std::uint8_t* dataset, std::size_t dataset_size, std::uint32_t peer_max_pdu);

    // The same with the data set read from `path`, `length` bytes from `offset` (a file's
    // data set sent as it is stored). The file is read in chunks of whole PDV payloads into
    // a buffer kept by the connection; a file shorter than offset + length: net_error io.
    void send_message_from_file(std::uint8_t context_id, const std::uint8_t* command, std::size_t command_size,
                                const std::string& path, std::uint64_t offset, std::uint64_t length,
                                std::uint32_t peer_max_pdu);

    // Receives P-DATA-TF PDUs until a whole message has arrived (the command's last
    // fragment, then, when the command says a data set follows, the data set's last
    // fragment). `accepted` lists the presentation context ids a PDV may use (others:
    // net_error protocol). When `dataset_dir` is not empty the data set is written to a new
    // file in that directory (named by the caller's `dataset_name`) instead of memory.
    // The file is created with O_EXCL when the command's last fragment says a data set
    // follows (an existing file: net_error io), written PDV by PDV, and removed again when
    // the call ends without a whole message (an error, a timeout, another PDU); the caller
    // renames it when done. `timeout` bounds each PDU. Limits: max_command (too_large),
    // max_dataset (too_large); a PDV on a context not in `accepted`, on another context than
    // the message's, a command fragment after the command ended, a data set fragment before
    // it or for a command without a data set: net_error protocol. PDVs of a P-DATA-TF PDU
    // after the end of a message are kept for the next call.
    // With `file_meta`, the file is a DICOM file: part10_header() first, then the data set
    // (msg.dataset_offset says where it starts).
    receive_result receive_message(const std::vector<std::uint8_t>& accepted, double timeout = 0,
                                   const std::string& dataset_dir = "", const std::string& dataset_name = "",
                                   const file_meta_options* file_meta = nullptr);

    // Whether something has arrived that the next receive would read (buffered bytes, PDVs
    // left from the last P-DATA-TF, or data on the socket), waiting at most `timeout`
    // seconds (0: not at all). Used to look for a C-CANCEL between responses.
    bool readable(double timeout);

    // Closes the socket (idempotent). A thread blocked in receive returns net_error(closed).
    void close();
    bool is_open() const;

    const connection_options& options() const { return options_; }
    std::string peer_address() const;
    int peer_port() const;

private:
    class fd_use;  // keeps fd_ open while a call uses it (see close())
    connection(int fd, const connection_options& options);
    std::uint8_t receive_into(std::vector<std::uint8_t>& body, double timeout, int fd);
    void fill_read_buffer(int fd, double deadline, std::size_t most = SIZE_MAX);
    int receive_pdv_in_place(message& msg, const bool allowed[256], double timeout, int fd);
    int receive_pdv_to_file(message& msg, const bool allowed[256], double timeout, int fd, int file,
                            const std::string& path);
    void move_pipe_to_file(std::size_t n, int file, const std::string& path);
    // The next PDU when it is one data set PDV of msg's context within the limits (its 12
    // header bytes read into the read buffer, nothing consumed): the payload size and
    // whether it is the last fragment; else nullopt.
    struct dataset_pdv {
        std::size_t size;
        bool last;
    };
    std::optional<dataset_pdv> next_dataset_pdv(const message& msg, const bool allowed[256], double deadline,
                                                int fd);

    int fd_;
    connection_options options_;
    mutable std::mutex mutex_;   // guards fd_, users_, closing_
    int users_ = 0;              // calls using fd_ right now
    bool closing_ = false;       // close() called; the last user closes fd_
    bool rx_broken_ = false;     // a receive stopped inside a PDU: the stream is out of step
    std::vector<std::uint8_t> read_buffer_;  // bytes read past the last PDU: [read_pos_, read_end_)
    std::size_t read_pos_ = 0;
    std::size_t read_end_ = 0;
    std::vector<std::uint8_t> pdata_body_;   // the last P-DATA-TF body, reused
    std::vector<pdv> pdata_pending_;         // its PDVs after the end of the last message
    std::size_t pdata_next_ = 0;
    std::vector<std::uint8_t> file_buffer_;  // send_message_from_file's chunks, reused
    int pipe_[2] = {-1, -1};                 // receive_pdv_to_file's pipe (made on first use)
    bool no_splice_ = false;                 // splice refused (a file system without it): read and write
};

// A listening socket for an SCP.
class listener {
public:
    listener(const std::string& host, int port, int backlog = 64);  // port 0: any free port
    ~listener();
    int port() const { return port_; }
    // Waits up to `timeout` seconds (<= 0: no limit) for a connection; returns its fd (for
    // connection::adopt), or -1 on timeout or when close() was called, also from another
    // thread while this one waits. Other failures: net_error io.
    int accept(double timeout);
    void close();  // idempotent

private:
    int fd_;
    int port_;
    std::mutex mutex_;  // guards fd_, users_, closing_ (close() may come from another thread)
    int users_ = 0;
    bool closing_ = false;
};

}  // namespace turbodicom::net
