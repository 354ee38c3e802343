// Binding of the network layer: PDUs to and from Python dicts, DIMSE command sets, the
// state machine's table, and connections whose blocking calls release the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "net/connection.hpp"
#include "net/dimse.hpp"
#include "net/net_error.hpp"
#include "net/part10_meta.hpp"
#include "net/pdu.hpp"
#include "net/state_machine.hpp"
#include "net/store_file.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {

namespace {

PyObject* net_error_type = nullptr;

py::bytes to_bytes(const std::vector<std::uint8_t>& v) {
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

std::vector<std::uint8_t> from_bytes(const py::handle& value) {
    std::string s = py::cast<std::string>(py::bytes(py::reinterpret_borrow<py::object>(value)));
    return std::vector<std::uint8_t>(s.begin(), s.end());
}

// A text field of a received PDU (AE title, UID, version name) as a Python str, byte for
// byte: a peer may put any bytes there, and a UTF-8 decode would raise UnicodeDecodeError
// instead of letting the caller judge the value (reject the AE title, the context).
py::str text(const std::string& s) {
    PyObject* o = PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
    if (!o) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(o);
}

py::list texts(const std::vector<std::string>& values) {
    py::list out;
    for (const auto& v : values) out.append(text(v));
    return out;
}

struct buffer_view {
    py::buffer_info info;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
};

buffer_view view_of(const py::buffer& b) {
    buffer_view v;
    v.info = b.request();
    v.data = static_cast<const std::uint8_t*>(v.info.ptr);
    v.size = static_cast<std::size_t>(v.info.size * v.info.itemsize);
    return v;
}

template <typename T>
T get_or(const py::dict& d, const char* key, T fallback) {
    if (!d.contains(key) || d[key].is_none()) return fallback;
    return d[key].cast<T>();
}

net::user_information to_user(const py::dict& d) {
    net::user_information u;
    if (d.contains("max_length") && !d["max_length"].is_none()) u.max_length = d["max_length"].cast<std::uint32_t>();
    u.implementation_class_uid = get_or<std::string>(d, "implementation_class_uid", "");
    u.implementation_version_name = get_or<std::string>(d, "implementation_version_name", "");
    if (d.contains("async_ops") && !d["async_ops"].is_none()) {
        auto ops = d["async_ops"].cast<std::pair<std::uint16_t, std::uint16_t>>();
        u.max_operations_invoked = ops.first;
        u.max_operations_performed = ops.second;
    }
    if (d.contains("roles")) {
        for (auto item : d["roles"]) {
            auto [uid, scu, scp] = item.cast<std::tuple<std::string, bool, bool>>();
            u.roles.push_back({uid, scu, scp});
        }
    }
    if (d.contains("extended")) {
        for (auto item : d["extended"]) {
            py::tuple t = item.cast<py::tuple>();
            u.extended_negotiation.push_back({t[0].cast<std::string>(), from_bytes(t[1])});
        }
    }
    if (d.contains("common_extended")) {
        for (auto item : d["common_extended"]) {
            auto [uid, service, related] = item.cast<std::tuple<std::string, std::string, std::vector<std::string>>>();
            u.common_extended_negotiation.push_back({uid, service, related});
        }
    }
    if (d.contains("identity_rq") && !d["identity_rq"].is_none()) {
        py::tuple t = d["identity_rq"].cast<py::tuple>();
        net::user_identity_rq id;
        id.type = t[0].cast<std::uint8_t>();
        id.positive_response_requested = t[1].cast<bool>();
        id.primary = from_bytes(t[2]);
        id.secondary = from_bytes(t[3]);
        u.identity_rq = id;
    }
    if (d.contains("identity_ac") && !d["identity_ac"].is_none()) u.identity_ac = from_bytes(d["identity_ac"]);
    return u;
}

py::dict from_user(const net::user_information& u) {
    py::dict d;
    d["max_length"] = u.max_length ? py::object(py::int_(*u.max_length)) : py::object(py::none());
    d["implementation_class_uid"] = text(u.implementation_class_uid);
    d["implementation_version_name"] = text(u.implementation_version_name);
    if (u.max_operations_invoked && u.max_operations_performed)
        d["async_ops"] = py::make_tuple(*u.max_operations_invoked, *u.max_operations_performed);
    else
        d["async_ops"] = py::none();
    py::list roles;
    for (const auto& r : u.roles) roles.append(py::make_tuple(text(r.sop_class_uid), r.scu_role, r.scp_role));
    d["roles"] = roles;
    py::list extended;
    for (const auto& e : u.extended_negotiation)
        extended.append(py::make_tuple(text(e.sop_class_uid), to_bytes(e.info)));
    d["extended"] = extended;
    py::list common;
    for (const auto& c : u.common_extended_negotiation)
        common.append(py::make_tuple(text(c.sop_class_uid), text(c.service_class_uid),
                                     texts(c.related_general_sop_classes)));
    d["common_extended"] = common;
    if (u.identity_rq) {
        const auto& id = *u.identity_rq;
        d["identity_rq"] = py::make_tuple(id.type, id.positive_response_requested, to_bytes(id.primary),
                                          to_bytes(id.secondary));
    } else {
        d["identity_rq"] = py::none();
    }
    d["identity_ac"] = u.identity_ac ? py::object(to_bytes(*u.identity_ac)) : py::object(py::none());
    return d;
}

net::connection_options to_options(const py::dict& d) {
    net::connection_options o;
    o.network_timeout = get_or<double>(d, "network_timeout", o.network_timeout);
    o.socket_buffer = get_or<int>(d, "socket_buffer", o.socket_buffer);
    const std::uint32_t max_pdu = get_or<std::uint32_t>(d, "max_pdu_receive", o.max_pdu_receive);
    // Our Maximum Length is what we announce; a peer's PDU may be up to that plus its header.
    // 0 (no limit) still keeps a bound on what is allocated for one PDU.
    o.max_pdu_receive = max_pdu == 0 ? (std::uint32_t(64) << 20) : max_pdu;
    o.max_dataset = get_or<std::uint64_t>(d, "max_dataset", o.max_dataset);
    return o;
}

// A received data set handed to Python without a copy: the vector moves into this object,
// which exports it through the buffer protocol (Python sees a read-only memoryview of it).
struct received_bytes {
    std::vector<std::uint8_t> data;
};

py::object as_memoryview(std::vector<std::uint8_t>&& data) {
    return py::memoryview(py::cast(received_bytes{std::move(data)}));
}

py::tuple receive_result_to_python(net::receive_result r) {
    if (!r.is_message) {
        return py::make_tuple("pdu", static_cast<int>(r.other.type), to_bytes(r.other.body));
    }
    py::object dataset = py::none();
    py::object path = py::none();
    if (r.msg.has_dataset) {
        if (!r.msg.dataset_path.empty()) path = py::str(r.msg.dataset_path);
        else dataset = as_memoryview(std::move(r.msg.dataset));
    }
    return py::make_tuple("message", r.msg.context_id, to_bytes(r.msg.command), dataset, path,
                          r.msg.dataset_offset);
}

}  // namespace

void register_net(py::module_& m) {
    net_error_type = PyErr_NewException("turbodicom._core.NetError", PyExc_OSError, nullptr);
    m.attr("NetError") = py::reinterpret_borrow<py::object>(net_error_type);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const net::net_error& e) {
            py::object err = py::reinterpret_borrow<py::object>(net_error_type)(e.what());
            err.attr("code") = net::net_errc_name(e.code());
            err.attr("offset") = e.offset();
            err.attr("detail") = e.detail();
            // Raised while waiting for a response, after the request went out whole.
            err.attr("while_receiving") = dynamic_cast<const net::response_error*>(&e) != nullptr;
            PyErr_SetObject(net_error_type, err.ptr());
        }
    });

    m.def("read_part10_meta", [](const py::bytes& head) -> py::object {
        const std::string_view bytes = head;
        const auto meta = net::read_part10_meta(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        if (!meta) return py::none();
        return py::make_tuple(meta->sop_class, meta->sop_instance, meta->transfer_syntax, meta->dataset_offset);
    }, "(SOP Class UID, SOP Instance UID, transfer syntax, data set offset) from the first bytes of a Part 10 "
       "file, or None when its File Meta Information cannot be read that way (see part10_meta.hpp).");

    m.def("part10_header", [](const std::string& sop_class, const std::string& sop_instance,
                              const std::string& transfer_syntax, const std::string& implementation_class_uid,
                              const std::string& implementation_version_name, const std::string& source_ae) {
        net::file_meta_options meta;
        meta.implementation_class_uid = implementation_class_uid;
        meta.implementation_version_name = implementation_version_name;
        meta.source_ae = source_ae;
        return to_bytes(net::part10_header(sop_class, sop_instance, transfer_syntax, meta));
    }, "The preamble, 'DICM' and File Meta Information of a Part 10 file (empty strings: elements left out).");

    // --- PDUs ---------------------------------------------------------------------------
    m.def("pdu_encode_associate_rq", [](const py::dict& d) {
        net::associate_rq rq;
        rq.called_ae = d["called_ae"].cast<std::string>();
        rq.calling_ae = d["calling_ae"].cast<std::string>();
        rq.application_context = get_or<std::string>(d, "application_context", rq.application_context);
        for (auto item : d["contexts"]) {
            auto [id, abstract, syntaxes] = item.cast<std::tuple<std::uint8_t, std::string, std::vector<std::string>>>();
            rq.contexts.push_back({id, abstract, syntaxes});
        }
        rq.user = to_user(d["user"].cast<py::dict>());
        return to_bytes(net::encode(rq));
    });
    m.def("pdu_encode_associate_ac", [](const py::dict& d) {
        net::associate_ac ac;
        ac.called_ae = d["called_ae"].cast<std::string>();
        ac.calling_ae = d["calling_ae"].cast<std::string>();
        ac.application_context = get_or<std::string>(d, "application_context", ac.application_context);
        for (auto item : d["contexts"]) {
            auto [id, result, syntax] = item.cast<std::tuple<std::uint8_t, std::uint8_t, std::string>>();
            ac.contexts.push_back({id, result, syntax});
        }
        ac.user = to_user(d["user"].cast<py::dict>());
        return to_bytes(net::encode(ac));
    });
    m.def("pdu_encode_associate_rj", [](std::uint8_t result, std::uint8_t source, std::uint8_t reason) {
        return to_bytes(net::encode(net::associate_rj{result, source, reason}));
    });
    m.def("pdu_encode_abort", [](std::uint8_t source, std::uint8_t reason) {
        return to_bytes(net::encode(net::abort_pdu{source, reason}));
    });
    m.def("pdu_release_rq", [] { return to_bytes(net::encode_release_rq()); });
    m.def("pdu_release_rp", [] { return to_bytes(net::encode_release_rp()); });

    m.def("pdu_decode_associate_rq", [](const py::buffer& body) {
        buffer_view v = view_of(body);
        const net::associate_rq rq = net::decode_associate_rq(v.data, v.size);
        py::dict d;
        d["protocol_version"] = rq.protocol_version;
        d["called_ae"] = text(rq.called_ae);
        d["calling_ae"] = text(rq.calling_ae);
        d["application_context"] = text(rq.application_context);
        py::list contexts;
        for (const auto& c : rq.contexts)
            contexts.append(py::make_tuple(c.id, text(c.abstract_syntax), texts(c.transfer_syntaxes)));
        d["contexts"] = contexts;
        d["user"] = from_user(rq.user);
        return d;
    });
    m.def("pdu_decode_associate_ac", [](const py::buffer& body) {
        buffer_view v = view_of(body);
        const net::associate_ac ac = net::decode_associate_ac(v.data, v.size);
        py::dict d;
        d["protocol_version"] = ac.protocol_version;
        d["called_ae"] = text(ac.called_ae);
        d["calling_ae"] = text(ac.calling_ae);
        d["application_context"] = text(ac.application_context);
        py::list contexts;
        for (const auto& c : ac.contexts) contexts.append(py::make_tuple(c.id, c.result, text(c.transfer_syntax)));
        d["contexts"] = contexts;
        d["user"] = from_user(ac.user);
        return d;
    });
    m.def("pdu_decode_associate_rj", [](const py::buffer& body) {
        buffer_view v = view_of(body);
        const net::associate_rj rj = net::decode_associate_rj(v.data, v.size);
        return py::make_tuple(rj.result, rj.source, rj.reason);
    });
    m.def("pdu_decode_abort", [](const py::buffer& body) {
        buffer_view v = view_of(body);
        const net::abort_pdu a = net::decode_abort(v.data, v.size);
        return py::make_tuple(a.source, a.reason);
    });
    m.def("pdu_decode_p_data", [](const py::buffer& body) {
        buffer_view v = view_of(body);
        py::list out;
        for (const net::pdv& p : net::decode_p_data(v.data, v.size)) {
            out.append(py::make_tuple(p.context_id, p.command, p.last,
                                      py::bytes(reinterpret_cast<const char*>(p.data), p.size)));
        }
        return out;
    });

    // --- DIMSE command sets ---------------------------------------------------------------
    m.def("command_encode", [](const std::vector<std::pair<std::uint32_t, py::bytes>>& elements) {
        net::dimse::command_set c;
        for (const auto& [tag, value] : elements) c.set_bytes(tag, from_bytes(value));
        return to_bytes(net::dimse::encode(c));
    }, "A command set from (tag, value bytes) pairs, Group Length first.");
    m.def("command_decode", [](const py::buffer& data) {
        buffer_view v = view_of(data);
        const net::dimse::command_set c = net::dimse::decode(v.data, v.size);
        py::list out;
        for (const auto& e : c.elements) out.append(py::make_tuple(e.tag, to_bytes(e.value)));
        return out;
    }, "The (tag, value bytes) pairs of a command set.");
    m.def("command_c_store_rsp", [](std::uint16_t responding_to, std::uint16_t status, const std::string& sop_class,
                                    const std::string& sop_instance) {
        return to_bytes(net::dimse::encode(net::dimse::c_store_rsp(responding_to, status, sop_class, sop_instance)));
    }, py::arg("responding_to"), py::arg("status"), py::arg("sop_class"), py::arg("sop_instance"),
       "An encoded C-STORE-RSP (PS3.7 9.3.1.2) without Error Comment or other optional elements.");

    // --- the state machine --------------------------------------------------------------
    m.def("ul_transition", [](int state, int event, bool condition) {
        const net::ul_transition t =
            net::transition(static_cast<net::ul_state>(state), static_cast<net::ul_event>(event), condition);
        return py::make_tuple(std::string(net::ul_action_name(t.action)), static_cast<int>(t.next));
    }, py::arg("state"), py::arg("event"), py::arg("condition") = true,
       "PS3.8 Table 9-10: (action name, next state) for `event` in `state`.");

    // --- connections ------------------------------------------------------------------------
    py::class_<received_bytes>(m, "ReceivedBytes", py::buffer_protocol(),
                               "The bytes of a received data set (read through a memoryview).")
        .def_buffer([](received_bytes& b) {
            return py::buffer_info(b.data.data(), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                                   {py::ssize_t(b.data.size())}, {py::ssize_t(1)}, true);
        });

    py::class_<net::file_prefetch>(m, "FilePrefetch",
                                   "A file read ahead for the next C-STORE of a C-GET or C-MOVE (see c_store_file).")
        .def(py::init<>());

    py::class_<net::connection>(m, "Connection")
        .def_static("connect", [](const std::string& host, int port, double timeout, const py::dict& options) {
            const net::connection_options o = to_options(options);
            py::gil_scoped_release release;
            return net::connection::connect(host, port, timeout, o);
        })
        .def_static("adopt", [](int fd, const py::dict& options) {
            return net::connection::adopt(fd, to_options(options));
        })
        .def("send", [](net::connection& c, const py::buffer& data) {
            buffer_view v = view_of(data);
            py::gil_scoped_release release;
            c.send(v.data, v.size);
        })
        .def("receive", [](net::connection& c, double timeout) {
            net::received_pdu pdu;
            {
                py::gil_scoped_release release;
                pdu = c.receive(timeout);
            }
            return py::make_tuple(static_cast<int>(pdu.type), to_bytes(pdu.body));
        }, py::arg("timeout") = 0.0)
        .def("send_message", [](net::connection& c, std::uint8_t context_id, const py::bytes& command,
                                const py::object& dataset, std::uint32_t peer_max) {
            std::string cmd = command;
            if (dataset.is_none()) {
                py::gil_scoped_release release;
                c.send_message(context_id, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size(), nullptr, 0,
                               peer_max);
                return;
            }
            buffer_view v = view_of(py::reinterpret_borrow<py::buffer>(dataset));
            py::gil_scoped_release release;
            c.send_message(context_id, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size(), v.data, v.size,
                           peer_max);
        })
        .def("send_message_from_file", [](net::connection& c, std::uint8_t context_id, const py::bytes& command,
                                          const std::string& path, std::uint64_t offset, std::uint64_t length,
                                          std::uint32_t peer_max) {
            std::string cmd = command;
            py::gil_scoped_release release;
            c.send_message_from_file(context_id, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size(), path,
                                     offset, length, peer_max);
        })
        .def("c_store_file", [](net::connection& c,
                                const std::vector<std::tuple<std::uint8_t, std::string, std::string>>& contexts,
                                const std::vector<std::uint8_t>& accepted, const std::string& path,
                                std::uint16_t message_id, std::uint16_t priority, const std::string& originator_ae,
                                std::optional<std::uint16_t> originator_id, std::uint32_t peer_max,
                                double timeout, net::file_prefetch* prefetch, const std::string& next_path) -> py::object {
            // contexts: (id, abstract syntax, transfer syntax) of the contexts we may send on.
            // Returns None when nothing was sent (the caller reads the file itself), the
            // interrupting PDU as receive_message does (with the cancelled Message IDs as a
            // fourth item), or ("message", context id, command, Command Field, Status or None,
            // whether the command holds only Status among the elements a status Dataset
            // shows, Message ID Being Responded To or None, [Message IDs of C-CANCEL-RQs
            // received before the message]).
            std::vector<net::scu_context> scu;
            scu.reserve(contexts.size());
            for (const auto& [id, abstract, syntax] : contexts) scu.push_back({id, abstract, syntax});
            net::c_store_file_request rq{path, message_id, priority, originator_ae, originator_id};
            net::c_store_file_outcome out;
            net::dimse::command_set command;
            {
                py::gil_scoped_release release;
                out = net::c_store_file(c, scu, accepted, rq, peer_max, timeout, prefetch, next_path);
                if (out.sent && out.response.is_message) {
                    const auto& bytes = out.response.msg.command;
                    command = net::dimse::decode(bytes.data(), bytes.size());
                }
            }
            if (!out.sent) return py::none();
            py::list cancelled;
            for (std::uint16_t id : out.cancelled) cancelled.append(id);
            if (!out.response.is_message) {
                return py::make_tuple("pdu", static_cast<int>(out.response.other.type),
                                      to_bytes(out.response.other.body), cancelled);
            }
            bool plain = true;
            for (const auto& e : command.elements) {
                const std::uint32_t t = e.tag;
                if ((t >= net::dimse::offending_element && t <= net::dimse::error_id) ||
                    (t >= net::dimse::number_of_remaining_suboperations &&
                     t <= net::dimse::number_of_warning_suboperations)) {
                    plain = false;
                }
            }
            const auto status = command.us(net::dimse::status);
            const auto responding_to = command.us(net::dimse::message_id_being_responded_to);
            return py::make_tuple("message", out.response.msg.context_id, to_bytes(out.response.msg.command),
                                  command.us(net::dimse::command_field_tag).value_or(0),
                                  status ? py::object(py::int_(*status)) : py::object(py::none()), plain,
                                  responding_to ? py::object(py::int_(*responding_to)) : py::object(py::none()),
                                  cancelled);
        }, py::arg("contexts"), py::arg("accepted"), py::arg("path"), py::arg("message_id"), py::arg("priority"),
           py::arg("originator_ae"), py::arg("originator_id"), py::arg("peer_max"), py::arg("timeout"),
           py::arg("prefetch") = nullptr, py::arg("next_path") = "")
        .def("receive_message", [](net::connection& c, const std::vector<std::uint8_t>& accepted, double timeout,
                                   const std::string& dataset_dir, const std::string& dataset_name,
                                   const py::object& file_meta, const std::string& store_folder,
                                   std::uint32_t peer_max) -> py::object {
            // file_meta: None, or (implementation class UID, version name, source AE,
            // {context id: transfer syntax}) to write the data set as a DICOM file.
            net::file_meta_options meta;
            const bool with_meta = !file_meta.is_none();
            if (with_meta) {
                py::tuple t = file_meta.cast<py::tuple>();
                meta.implementation_class_uid = t[0].cast<std::string>();
                meta.implementation_version_name = t[1].cast<std::string>();
                meta.source_ae = t[2].cast<std::string>();
                meta.transfer_syntaxes.assign(256, std::string());
                for (auto item : t[3].cast<py::dict>()) {
                    meta.transfer_syntaxes[item.first.cast<std::uint8_t>()] = item.second.cast<std::string>();
                }
            }
            // store_folder: a C-STORE-RQ streamed to a file is stored there by
            // store_received_file when it can be, answered with Success (peer_max: the peer's
            // maximum PDU); that returns ("stored", context id, command, path, file size,
            // "" or why the folder could not be flushed: then no response was sent).
            net::receive_result r;
            net::stored_file stored;
            {
                py::gil_scoped_release release;
                r = c.receive_message(accepted, timeout, dataset_dir, dataset_name, with_meta ? &meta : nullptr);
                if (!store_folder.empty() && r.is_message && !r.msg.dataset_path.empty()) {
                    stored = net::store_received_file(c, r.msg, store_folder, peer_max);
                }
            }
            if (stored.result != net::stored_file::outcome::not_stored) {
                return py::make_tuple("stored", r.msg.context_id, to_bytes(r.msg.command), stored.path,
                                      r.msg.dataset_offset + r.msg.dataset_size, stored.error);
            }
            return receive_result_to_python(std::move(r));
        }, py::arg("accepted"), py::arg("timeout") = 0.0, py::arg("dataset_dir") = "", py::arg("dataset_name") = "",
           py::arg("file_meta") = py::none(), py::arg("store_folder") = "", py::arg("peer_max") = 0)
        .def("close", [](net::connection& c) {
            py::gil_scoped_release release;
            c.close();
        })
        .def("readable", [](net::connection& c, double timeout) {
            py::gil_scoped_release release;
            return c.readable(timeout);
        }, py::arg("timeout") = 0.0)
        .def_property_readonly("is_open", &net::connection::is_open)
        .def_property_readonly("peer_address", &net::connection::peer_address)
        .def_property_readonly("peer_port", &net::connection::peer_port);

    py::class_<net::listener>(m, "Listener")
        .def(py::init<const std::string&, int, int>(), py::arg("host"), py::arg("port"), py::arg("backlog") = 64)
        .def_property_readonly("port", &net::listener::port)
        .def("accept", [](net::listener& l, double timeout) -> py::object {
            int fd;
            {
                py::gil_scoped_release release;
                fd = l.accept(timeout);
            }
            if (fd < 0) return py::none();
            return py::int_(fd);
        })
        .def("close", [](net::listener& l) {
            py::gil_scoped_release release;
            l.close();
        });
}

}  // namespace turbodicom::bindings
