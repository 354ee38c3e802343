// Equality of the PDU structs of net/pdu.hpp, field by field.
#include <cstring>
#include <tuple>

#include "net/pdu.hpp"

namespace turbodicom::net {

bool operator==(const unknown_item& a, const unknown_item& b) {
    return a.type == b.type && a.value == b.value;
}

bool operator==(const presentation_context_rq& a, const presentation_context_rq& b) {
    return std::tie(a.id, a.abstract_syntax, a.transfer_syntaxes) ==
           std::tie(b.id, b.abstract_syntax, b.transfer_syntaxes);
}

bool operator==(const presentation_context_ac& a, const presentation_context_ac& b) {
    return std::tie(a.id, a.result, a.transfer_syntax) == std::tie(b.id, b.result, b.transfer_syntax);
}

bool operator==(const role_selection& a, const role_selection& b) {
    return std::tie(a.sop_class_uid, a.scu_role, a.scp_role) == std::tie(b.sop_class_uid, b.scu_role, b.scp_role);
}

bool operator==(const sop_class_extended& a, const sop_class_extended& b) {
    return a.sop_class_uid == b.sop_class_uid && a.info == b.info;
}

bool operator==(const sop_class_common_extended& a, const sop_class_common_extended& b) {
    return std::tie(a.sop_class_uid, a.service_class_uid, a.related_general_sop_classes) ==
           std::tie(b.sop_class_uid, b.service_class_uid, b.related_general_sop_classes);
}

bool operator==(const user_identity_rq& a, const user_identity_rq& b) {
    return std::tie(a.type, a.positive_response_requested, a.primary, a.secondary) ==
           std::tie(b.type, b.positive_response_requested, b.primary, b.secondary);
}

bool operator==(const user_information& a, const user_information& b) {
    return a.max_length == b.max_length && a.implementation_class_uid == b.implementation_class_uid &&
           a.implementation_version_name == b.implementation_version_name &&
           a.max_operations_invoked == b.max_operations_invoked &&
           a.max_operations_performed == b.max_operations_performed && a.roles == b.roles &&
           a.extended_negotiation == b.extended_negotiation &&
           a.common_extended_negotiation == b.common_extended_negotiation && a.identity_rq == b.identity_rq &&
           a.identity_ac == b.identity_ac && a.unknown == b.unknown;
}

bool operator==(const associate_rq& a, const associate_rq& b) {
    return std::tie(a.protocol_version, a.called_ae, a.calling_ae, a.application_context, a.contexts, a.user) ==
           std::tie(b.protocol_version, b.called_ae, b.calling_ae, b.application_context, b.contexts, b.user);
}

bool operator==(const associate_ac& a, const associate_ac& b) {
    return std::tie(a.protocol_version, a.called_ae, a.calling_ae, a.application_context, a.contexts, a.user) ==
           std::tie(b.protocol_version, b.called_ae, b.calling_ae, b.application_context, b.contexts, b.user);
}

bool operator==(const associate_rj& a, const associate_rj& b) {
    return std::tie(a.result, a.source, a.reason) == std::tie(b.result, b.source, b.reason);
}

bool operator==(const abort_pdu& a, const abort_pdu& b) {
    return a.source == b.source && a.reason == b.reason;
}

bool operator==(const pdv& a, const pdv& b) {
    return a.context_id == b.context_id && a.command == b.command && a.last == b.last && a.size == b.size &&
           (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

}  // namespace turbodicom::net
