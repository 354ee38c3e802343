#include "codec/jpeg/encode_segments.hpp"

#include "codec/jpeg/markers.hpp"

namespace turbodicom::codec::jpeg::encoding {

namespace {

// Walks the anti-diagonals of the block alternately up and down, as Figure A.6 draws it.
constexpr std::array<std::uint8_t, 64> make_zigzag() {
    std::array<std::uint8_t, 64> order{};
    int k = 0;
    for (int diagonal = 0; diagonal < 15; ++diagonal) {
        const int first = diagonal < 8 ? 0 : diagonal - 7;
        const int last = diagonal < 8 ? diagonal : 7;
        for (int i = first; i <= last; ++i) {
            // Even diagonals run from bottom-left to top-right, odd ones the other way.
            const int row = (diagonal % 2 == 0) ? diagonal - i : i;
            const int column = diagonal - row;
            order[k++] = static_cast<std::uint8_t>(row * 8 + column);
        }
    }
    return order;
}

}  // namespace

const std::array<std::uint8_t, 64> zigzag_to_natural = make_zigzag();

void put_marker(std::vector<std::uint8_t>& out, std::uint8_t code) {
    out.push_back(0xFF);
    out.push_back(code);
}

void put_u16(std::vector<std::uint8_t>& out, unsigned value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

void write_jfif(std::vector<std::uint8_t>& out) {
    put_marker(out, marker::APP0);
    put_u16(out, 16);
    for (std::uint8_t b : {'J', 'F', 'I', 'F', '\0'}) out.push_back(b);
    out.push_back(1);  // version 1.01
    out.push_back(1);
    out.push_back(0);  // density units: none, the values give the aspect ratio
    put_u16(out, 1);
    put_u16(out, 1);
    out.push_back(0);  // no thumbnail
    out.push_back(0);
}

void write_dqt(std::vector<std::uint8_t>& out, unsigned id, const std::array<std::uint16_t, 64>& natural) {
    put_marker(out, marker::DQT);
    put_u16(out, 2 + 1 + 64);
    out.push_back(static_cast<std::uint8_t>(id));  // Pq = 0: 8-bit values
    for (int k = 0; k < 64; ++k) out.push_back(static_cast<std::uint8_t>(natural[zigzag_to_natural[k]]));
}

void write_dht(std::vector<std::uint8_t>& out, unsigned table_class, unsigned id, const huffman_table& table) {
    put_marker(out, marker::DHT);
    put_u16(out, static_cast<unsigned>(2 + 1 + 16 + table.values.size()));
    out.push_back(static_cast<std::uint8_t>(table_class << 4 | id));
    out.insert(out.end(), table.bits.begin(), table.bits.end());
    out.insert(out.end(), table.values.begin(), table.values.end());
}

void write_sof(std::vector<std::uint8_t>& out, std::uint8_t sof_marker, unsigned precision, unsigned rows,
               unsigned columns, const std::vector<frame_component>& components) {
    put_marker(out, sof_marker);
    put_u16(out, static_cast<unsigned>(8 + 3 * components.size()));
    out.push_back(static_cast<std::uint8_t>(precision));
    put_u16(out, rows);
    put_u16(out, columns);
    out.push_back(static_cast<std::uint8_t>(components.size()));
    for (const auto& c : components) {
        out.push_back(c.id);
        out.push_back(static_cast<std::uint8_t>(c.h << 4 | c.v));
        out.push_back(c.tq);
    }
}

void write_sos(std::vector<std::uint8_t>& out, const std::vector<scan_component>& components, unsigned ss,
               unsigned se, unsigned ah, unsigned al) {
    put_marker(out, marker::SOS);
    put_u16(out, static_cast<unsigned>(6 + 2 * components.size()));
    out.push_back(static_cast<std::uint8_t>(components.size()));
    for (const auto& c : components) {
        out.push_back(c.id);
        out.push_back(static_cast<std::uint8_t>(c.td << 4 | c.ta));
    }
    out.push_back(static_cast<std::uint8_t>(ss));
    out.push_back(static_cast<std::uint8_t>(se));
    out.push_back(static_cast<std::uint8_t>(ah << 4 | al));
}

}  // namespace turbodicom::codec::jpeg::encoding
