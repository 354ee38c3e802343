// libFuzzer target for DIMSE command set decoding (net/dimse.hpp), the first thing that
// reads a peer's command bytes after PDV reassembly.
//
// Every input must decode or raise net_error; anything else (a crash, a sanitizer report,
// another exception) is a bug. A command set that decodes is encoded again, and that must
// decode to the same elements and encode to the same bytes.
//
// Build:  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Icpp fuzz/fuzz_dimse.cpp
//           cpp/net/dimse.cpp cpp/net/net_error.cpp
// Run:    ./fuzz_dimse -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "net/dimse.hpp"
#include "net/net_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace turbodicom::net;
    dimse::command_set command;
    try {
        command = dimse::decode(data, size);
    } catch (const net_error&) {
        return 0;
    }
    (void)command.dataset_follows();
    (void)command.text(dimse::affected_sop_instance_uid);
    const std::vector<std::uint8_t> encoded = dimse::encode(command);
    dimse::command_set again;
    try {
        again = dimse::decode(encoded.data(), encoded.size());
    } catch (const net_error& e) {
        std::fprintf(stderr, "re-encoded command set does not decode: %s\n", e.what());
        std::abort();
    }
    if (again.elements.size() != command.elements.size()) std::abort();
    for (std::size_t i = 0; i < again.elements.size(); ++i) {
        if (again.elements[i].tag != command.elements[i].tag || again.elements[i].value != command.elements[i].value) {
            std::abort();
        }
    }
    if (dimse::encode(again) != encoded) std::abort();
    return 0;
}
