// The upper layer state machine of PS3.8 section 9.2: states Sta1..Sta13, events
// Evt1..Evt19 and the actions of Table 9-10, as a pure function. The code that owns a
// connection feeds it every event and carries out the action it returns.
#pragma once
#include <cstdint>

namespace turbodicom::net {

enum class ul_state : std::uint8_t {
    sta1 = 1,   // idle
    sta2,       // transport connection open, awaiting A-ASSOCIATE-RQ PDU
    sta3,       // awaiting local A-ASSOCIATE response primitive
    sta4,       // awaiting transport connection opening to complete
    sta5,       // awaiting A-ASSOCIATE-AC or -RJ PDU
    sta6,       // association established, ready for data transfer
    sta7,       // awaiting A-RELEASE-RP PDU
    sta8,       // awaiting local A-RELEASE response primitive
    sta9,       // release collision requestor side: awaiting A-RELEASE response primitive
    sta10,      // release collision acceptor side: awaiting A-RELEASE-RP PDU
    sta11,      // release collision requestor side: awaiting A-RELEASE-RP PDU
    sta12,      // release collision acceptor side: awaiting A-RELEASE response primitive
    sta13,      // awaiting transport connection close indication
};

enum class ul_event : std::uint8_t {
    evt1 = 1,   // A-ASSOCIATE request (local user)
    evt2,       // transport connection confirm
    evt3,       // A-ASSOCIATE-AC PDU received
    evt4,       // A-ASSOCIATE-RJ PDU received
    evt5,       // transport connection indication
    evt6,       // A-ASSOCIATE-RQ PDU received
    evt7,       // A-ASSOCIATE response primitive (accept)
    evt8,       // A-ASSOCIATE response primitive (reject)
    evt9,       // P-DATA request primitive
    evt10,      // P-DATA-TF PDU received
    evt11,      // A-RELEASE request primitive
    evt12,      // A-RELEASE-RQ PDU received
    evt13,      // A-RELEASE-RP PDU received
    evt14,      // A-RELEASE response primitive
    evt15,      // A-ABORT request primitive
    evt16,      // A-ABORT PDU received
    evt17,      // transport connection closed indication
    evt18,      // ARTIM timer expired
    evt19,      // unrecognized or invalid PDU received
};

// The actions of PS3.8 9.2.2 (AE-1 ... AA-8), plus `invalid` for an event the table has
// no entry for in that state.
enum class ul_action : std::uint8_t {
    ae1, ae2, ae3, ae4, ae5, ae6, ae7, ae8,
    dt1, dt2,
    ar1, ar2, ar3, ar4, ar5, ar6, ar7, ar8, ar9, ar10,
    aa1, aa2, aa3, aa4, aa5, aa6, aa7, aa8,
    invalid,
};

struct ul_transition {
    ul_action action;
    ul_state next;  // for AE-6, AR-8 and the others whose next state depends on a
                    // condition, the state for `condition` (see transition below)
};

// The entry of Table 9-10 for `event` in `state`. Where the action's next state depends on
// a condition (AE-6: the A-ASSOCIATE-RQ is acceptable; AR-8: this side is the association
// requestor), `condition` chooses it.
ul_transition transition(ul_state state, ul_event event, bool condition = true);

const char* ul_state_name(ul_state state) noexcept;
const char* ul_action_name(ul_action action) noexcept;

}  // namespace turbodicom::net
