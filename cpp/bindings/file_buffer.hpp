// The bytes of a file, mapped or read once, for the parser to read without copies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace turbodicom::bindings {

class file_buffer {
public:
    explicit file_buffer(const std::string& path);  // throws core::error(errc::io)
    ~file_buffer();
    file_buffer(const file_buffer&) = delete;
    file_buffer& operator=(const file_buffer&) = delete;

    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    double mtime() const noexcept { return mtime_; }

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;
    double mtime_ = 0;
    std::string owned_;
};

}  // namespace turbodicom::bindings
