// The bytes of a file, mapped or read once, for the parser to read without copies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace turbodicom::core {

class file_buffer {
public:
    // Maps the file, or for small files reads it with one read(); with
    // `always_map`, maps whatever the size so that only the pages touched are read.
    explicit file_buffer(const std::string& path);  // throws core::error(errc::io)

    // Reads at most the first `prefix` bytes; file_size() is the size when that
    // was the whole file, and SIZE_MAX (unknown, larger) when it may not be. Threads reading prefixes do not contend the way
    // mapping and unmapping (which take the process's memory-map lock) do.
    file_buffer(const std::string& path, std::size_t prefix);
    ~file_buffer();
    file_buffer(const file_buffer&) = delete;
    file_buffer& operator=(const file_buffer&) = delete;

    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    double mtime() const noexcept { return mtime_; }
    std::size_t file_size() const noexcept { return file_size_; }

private:
    void open_and_read(const std::string& path, std::size_t prefix, bool may_map);
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t file_size_ = 0;
    bool mapped_ = false;
    double mtime_ = 0;
    std::unique_ptr<std::uint8_t[]> owned_;
};

}  // namespace turbodicom::core
