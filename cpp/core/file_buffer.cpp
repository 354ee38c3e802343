#include "core/file_buffer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace turbodicom::core {

namespace {
// Below this size one read() is cheaper than setting up and tearing down a mapping.
constexpr std::size_t map_threshold = 256 * 1024;
}

file_buffer::file_buffer(const std::string& path) { open_and_read(path, SIZE_MAX, true); }

file_buffer::file_buffer(const std::string& path, std::size_t prefix) { open_and_read(path, prefix, false); }

void file_buffer::open_and_read(const std::string& path, std::size_t prefix, bool may_map) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        core::raise(core::errc::io, 0, path + ": " + std::strerror(errno));
    }
    const bool whole = prefix == SIZE_MAX;
    std::size_t capacity = prefix;
    if (whole) {
        // The size decides between reading and mapping; a prefix read needs no fstat.
        struct stat st;
        const bool stat_ok = ::fstat(fd, &st) == 0;
        if (!stat_ok || S_ISDIR(st.st_mode)) {
            int e = stat_ok ? EISDIR : errno;
            ::close(fd);
            core::raise(core::errc::io, 0, path + ": " + std::strerror(e));
        }
        mtime_ = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
        capacity = static_cast<std::size_t>(st.st_size);
        if (may_map && capacity >= map_threshold) {
            void* p = ::mmap(nullptr, capacity, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                data_ = static_cast<const std::uint8_t*>(p);
                size_ = file_size_ = capacity;
                mapped_ = true;
                ::close(fd);
                return;
            }
        }
    }
    owned_.reset(new std::uint8_t[capacity > 0 ? capacity : 1]);  // not zeroed: read() fills it
    std::size_t done = 0;
    while (done < capacity) {
        ssize_t n = ::read(fd, owned_.get() + done, capacity - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            core::raise(core::errc::io, 0, path + ": " + std::strerror(e));  // a directory: EISDIR
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    size_ = done;
    // A prefix that filled up may not be the whole file: its size is unknown, and larger.
    file_size_ = (!whole && done == capacity) ? SIZE_MAX : done;
    data_ = owned_.get();
}

file_buffer::~file_buffer() {
    if (mapped_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

}  // namespace turbodicom::core
