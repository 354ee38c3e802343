// Checks shared by the C++ unit tests. Each test is a plain executable: a failed check
// prints one line, and main returns non-zero when any check failed.
#pragma once
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace turbodicom::test {

inline int failures = 0;
// The name of the test being run, printed with each failure when not empty.
inline const char* current_test = "";

inline void fail(const std::string& what) {
    ++failures;
    if (current_test[0] != '\0') {
        std::printf("FAIL [%s] %s\n", current_test, what.c_str());
    } else {
        std::printf("FAIL %s\n", what.c_str());
    }
    std::fflush(stdout);
}

// Bytes in hex, or only their count when there are too many to read.
inline std::string printable(const std::vector<std::uint8_t>& v) {
    std::string s = std::to_string(v.size()) + " bytes";
    if (v.size() > 256) return s;
    s += ": ";
    char buf[4];
    for (std::uint8_t b : v) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        s += buf;
    }
    return s;
}

// A value as CHECK_EQ prints it: enums as their number, unsigned integers in decimal and
// hex, strings quoted. A test can add overloads in this namespace for its own types.
template <class T>
std::string printable(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        return v ? "true" : "false";
    } else if constexpr (std::is_enum_v<T> || (std::is_integral_v<T> && std::is_signed_v<T>)) {
        return std::to_string(static_cast<long long>(v));
    } else if constexpr (std::is_floating_point_v<T>) {
        return std::to_string(v);
    } else if constexpr (std::is_unsigned_v<T>) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%llu (0x%llX)", static_cast<unsigned long long>(v),
                      static_cast<unsigned long long>(v));
        return buf;
    } else {
        return '"' + std::string(v) + '"';
    }
}

// Runs f, which must throw Error (core::error, codec::codec_error, net::net_error) with
// the given code; anything else is a failure reported under `what`.
template <class Error, class F, class Code>
void expect_error(F&& f, Code code, const std::string& what) {
    try {
        f();
        fail(what + ": no error raised, expected code " + printable(code));
    } catch (const Error& e) {
        if (e.code() != code) fail(what + ": raised \"" + e.what() + "\", expected code " + printable(code));
    } catch (const std::exception& e) {
        fail(what + ": unexpected exception " + e.what());
    } catch (...) {
        fail(what + ": unexpected exception of unknown type");
    }
}

// Runs each test in turn; an exception escaping one is a failure, and the next still runs.
inline void run(std::initializer_list<void (*)()> tests) {
    for (void (*test)() : tests) {
        try {
            test();
        } catch (const std::exception& e) {
            fail(std::string("uncaught exception: ") + e.what());
        } catch (...) {
            fail("uncaught exception of unknown type");
        }
    }
}

// Prints the summary line of the executable `name`; returns the exit status for main.
inline int exit_code(const char* name) {
    if (failures != 0) {
        std::printf("%s: %d failure(s)\n", name, failures);
        return 1;
    }
    std::printf("%s: all passed\n", name);
    return 0;
}

}  // namespace turbodicom::test

#define TEST_SUPPORT_WHERE (std::string(__FILE__ ":") + std::to_string(__LINE__) + ": ")

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) ::turbodicom::test::fail(TEST_SUPPORT_WHERE + #cond);           \
    } while (0)

#define CHECK_EQ(a, b)                                                                                 \
    do {                                                                                               \
        const auto va_ = (a);                                                                          \
        const auto vb_ = (b);                                                                          \
        if (!(va_ == vb_))                                                                             \
            ::turbodicom::test::fail(TEST_SUPPORT_WHERE + #a " == " #b " (" +                          \
                                     ::turbodicom::test::printable(va_) + " vs " +                     \
                                     ::turbodicom::test::printable(vb_) + ")");                        \
    } while (0)
