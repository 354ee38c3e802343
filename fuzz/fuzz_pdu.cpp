// libFuzzer target for the upper layer PDU codec (net/pdu.hpp).
//
// The first byte picks the PDU type whose body decoder gets the rest of the input. Every
// input must decode or raise net_error; anything else (a crash, a sanitizer report, another
// exception) is a bug. A PDU that decodes is encoded again, and that must decode to the same
// fields (an A-ASSOCIATE with an AE title we would not send, such as one of spaces only, is
// not encoded). Only decoding may throw: a net_error from encoding what was decoded escapes
// and stops the fuzzer, as the decoder accepted something the encoder cannot send.
//
// Build:  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Icpp fuzz/fuzz_pdu.cpp
//           cpp/net/pdu.cpp cpp/net/pdu_decode.cpp cpp/net/pdu_encode.cpp cpp/net/net_error.cpp
// Run:    ./fuzz_pdu -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "net/net_error.hpp"
#include "net/pdu.hpp"

namespace {

using namespace turbodicom::net;

[[noreturn]] void mismatch(const char* what) {
    std::fprintf(stderr, "fuzz_pdu: %s does not round trip\n", what);
    std::abort();
}

// The body of an encoded PDU, after checking its header.
std::vector<std::uint8_t> body(const std::vector<std::uint8_t>& pdu, pdu_type type) {
    const pdu_header h = read_header(pdu.data());
    if (h.type != std::uint8_t(type) || h.length != pdu.size() - pdu_header_size) mismatch("the PDU header");
    return std::vector<std::uint8_t>(pdu.begin() + pdu_header_size, pdu.end());
}

// The result of `decode`, or nothing when it throws net_error.
template <class F>
auto decoded(F decode) -> std::optional<decltype(decode())> {
    try {
        return decode();
    } catch (const net_error&) {
        return std::nullopt;
    }
}

void run(std::uint8_t selector, const std::uint8_t* data, std::size_t size) {
    switch (selector % 7) {
        case 0: {
            const auto got = decoded([&] { return decode_associate_rq(data, size); });
            if (!got) return;
            const associate_rq& rq = *got;
            if (!is_valid_ae_title(rq.called_ae) || !is_valid_ae_title(rq.calling_ae)) return;
            const std::vector<std::uint8_t> b = body(encode(rq), pdu_type::associate_rq);
            if (decode_associate_rq(b.data(), b.size()) != rq) mismatch("A-ASSOCIATE-RQ");
            return;
        }
        case 1: {
            const auto got = decoded([&] { return decode_associate_ac(data, size); });
            if (!got) return;
            const associate_ac& ac = *got;
            if (!is_valid_ae_title(ac.called_ae) || !is_valid_ae_title(ac.calling_ae)) return;
            const std::vector<std::uint8_t> b = body(encode(ac), pdu_type::associate_ac);
            if (decode_associate_ac(b.data(), b.size()) != ac) mismatch("A-ASSOCIATE-AC");
            return;
        }
        case 2: {
            const auto got = decoded([&] { return decode_associate_rj(data, size); });
            if (!got) return;
            const associate_rj& rj = *got;
            const std::vector<std::uint8_t> b = body(encode(rj), pdu_type::associate_rj);
            if (decode_associate_rj(b.data(), b.size()) != rj) mismatch("A-ASSOCIATE-RJ");
            return;
        }
        case 3: {
            const auto got = decoded([&] { return decode_p_data(data, size); });
            if (!got) return;
            const std::vector<pdv>& pdvs = *got;
            const std::vector<std::uint8_t> b = body(encode_p_data(pdvs), pdu_type::p_data_tf);
            if (b.size() != size || decode_p_data(b.data(), b.size()) != pdvs) mismatch("P-DATA-TF");
            if (pdvs.size() == 1) {  // the header writer agrees with the whole-PDU encoder
                std::uint8_t header[p_data_overhead];
                write_p_data_header(header, pdvs[0].context_id, pdvs[0].command, pdvs[0].last,
                                    std::uint32_t(pdvs[0].size));
                const std::vector<std::uint8_t> whole = encode_p_data(pdvs);
                for (std::size_t i = 0; i < p_data_overhead; ++i)
                    if (header[i] != whole[i]) mismatch("the P-DATA-TF header");
            }
            return;
        }
        case 4:
        case 5: {
            if (!decoded([&] { decode_release(data, size); return true; })) return;
            const std::vector<std::uint8_t> b = body(selector % 7 == 4 ? encode_release_rq() : encode_release_rp(),
                                                     selector % 7 == 4 ? pdu_type::release_rq : pdu_type::release_rp);
            decode_release(b.data(), b.size());
            return;
        }
        default: {
            const auto got = decoded([&] { return decode_abort(data, size); });
            if (!got) return;
            const abort_pdu& a = *got;
            const std::vector<std::uint8_t> b = body(encode(a), pdu_type::abort);
            if (decode_abort(b.data(), b.size()) != a) mismatch("A-ABORT");
            return;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    run(data[0], data + 1, size - 1);
    return 0;
}
