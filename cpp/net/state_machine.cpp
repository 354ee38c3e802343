// PS3.8 9.2: the upper layer state machine as data. Table 9-10 gives only the action for
// each (event, state) cell; the next state belongs to the action (Tables 9-6 to 9-9), so the
// table below holds actions and next_state() holds the states. Every action has one fixed
// next state except AE-6 and AR-8, whose definitions name two.
#include "net/state_machine.hpp"

#include <cstddef>

namespace turbodicom::net {

namespace {

constexpr std::size_t state_count = 13;
constexpr std::size_t event_count = 19;

// Short names so that a row of the table fits on one line.
constexpr ul_action ae1 = ul_action::ae1, ae2 = ul_action::ae2, ae3 = ul_action::ae3,
                    ae4 = ul_action::ae4, ae5 = ul_action::ae5, ae6 = ul_action::ae6,
                    ae7 = ul_action::ae7, ae8 = ul_action::ae8;
constexpr ul_action dt1 = ul_action::dt1, dt2 = ul_action::dt2;
constexpr ul_action ar1 = ul_action::ar1, ar2 = ul_action::ar2, ar3 = ul_action::ar3,
                    ar4 = ul_action::ar4, ar5 = ul_action::ar5, ar6 = ul_action::ar6,
                    ar7 = ul_action::ar7, ar8 = ul_action::ar8, ar9 = ul_action::ar9,
                    ar10 = ul_action::ar10;
constexpr ul_action aa1 = ul_action::aa1, aa2 = ul_action::aa2, aa3 = ul_action::aa3,
                    aa4 = ul_action::aa4, aa5 = ul_action::aa5, aa6 = ul_action::aa6,
                    aa7 = ul_action::aa7, aa8 = ul_action::aa8;
constexpr ul_action nil = ul_action::invalid;  // a blank cell of Table 9-10

// PS3.8 Table 9-10, laid out as in the standard: one row per event, one column per state.
// Columns: Sta1 Sta2 Sta3 Sta4 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13.
constexpr ul_action table[event_count][state_count] = {
    /* Evt1  A-ASSOCIATE rq     */ {ae1, nil, nil, nil, nil, nil, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt2  transport confirm  */ {nil, nil, nil, ae2, nil, nil, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt3  A-ASSOCIATE-AC PDU */ {nil, aa1, aa8, nil, ae3, aa8, aa8, aa8, aa8, aa8,  aa8, aa8, aa6},
    /* Evt4  A-ASSOCIATE-RJ PDU */ {nil, aa1, aa8, nil, ae4, aa8, aa8, aa8, aa8, aa8,  aa8, aa8, aa6},
    /* Evt5  transport indicat. */ {ae5, nil, nil, nil, nil, nil, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt6  A-ASSOCIATE-RQ PDU */ {nil, ae6, aa8, nil, aa8, aa8, aa8, aa8, aa8, aa8,  aa8, aa8, aa7},
    /* Evt7  A-ASSOCIATE accept */ {nil, nil, ae7, nil, nil, nil, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt8  A-ASSOCIATE reject */ {nil, nil, ae8, nil, nil, nil, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt9  P-DATA rq          */ {nil, nil, nil, nil, nil, dt1, nil, ar7, nil, nil,  nil, nil, nil},
    /* Evt10 P-DATA-TF PDU      */ {nil, aa1, aa8, nil, aa8, dt2, ar6, aa8, aa8, aa8,  aa8, aa8, aa6},
    /* Evt11 A-RELEASE rq       */ {nil, nil, nil, nil, nil, ar1, nil, nil, nil, nil,  nil, nil, nil},
    /* Evt12 A-RELEASE-RQ PDU   */ {nil, aa1, aa8, nil, aa8, ar2, ar8, aa8, aa8, aa8,  aa8, aa8, aa6},
    /* Evt13 A-RELEASE-RP PDU   */ {nil, aa1, aa8, nil, aa8, aa8, ar3, aa8, aa8, ar10, ar3, aa8, aa6},
    /* Evt14 A-RELEASE rsp      */ {nil, nil, nil, nil, nil, nil, nil, ar4, ar9, nil,  nil, ar4, nil},
    /* Evt15 A-ABORT rq         */ {nil, nil, aa1, aa2, aa1, aa1, aa1, aa1, aa1, aa1,  aa1, aa1, nil},
    /* Evt16 A-ABORT PDU        */ {nil, aa2, aa3, nil, aa3, aa3, aa3, aa3, aa3, aa3,  aa3, aa3, aa2},
    /* Evt17 transport closed   */ {nil, aa5, aa4, aa4, aa4, aa4, aa4, aa4, aa4, aa4,  aa4, aa4, ar5},
    /* Evt18 ARTIM expired      */ {nil, aa2, nil, nil, nil, nil, nil, nil, nil, nil,  nil, nil, aa2},
    /* Evt19 invalid PDU        */ {nil, aa1, aa8, nil, aa8, aa8, aa8, aa8, aa8, aa8,  aa8, aa8, aa7},
};

// The next state of each action (PS3.8 Tables 9-6 to 9-9). AA-1's "start or restart",
// AA-2's "if running" and AA-3's choice between an A-ABORT and an A-P-ABORT indication
// change what the action does, never where it leads, so only AE-6 and AR-8 use `condition`.
constexpr ul_state next_state(ul_action action, bool condition, ul_state current) {
    switch (action) {
        case ul_action::ae1: return ul_state::sta4;
        case ul_action::ae2: return ul_state::sta5;
        case ul_action::ae3: return ul_state::sta6;
        case ul_action::ae4: return ul_state::sta1;
        case ul_action::ae5: return ul_state::sta2;
        // AE-6: the A-ASSOCIATE-RQ is acceptable to the service provider: indication, Sta3;
        // otherwise the provider sends A-ASSOCIATE-RJ, starts ARTIM, Sta13.
        case ul_action::ae6: return condition ? ul_state::sta3 : ul_state::sta13;
        case ul_action::ae7: return ul_state::sta6;
        case ul_action::ae8: return ul_state::sta13;
        case ul_action::dt1: return ul_state::sta6;
        case ul_action::dt2: return ul_state::sta6;
        case ul_action::ar1: return ul_state::sta7;
        case ul_action::ar2: return ul_state::sta8;
        case ul_action::ar3: return ul_state::sta1;
        case ul_action::ar4: return ul_state::sta13;
        case ul_action::ar5: return ul_state::sta1;
        case ul_action::ar6: return ul_state::sta7;
        case ul_action::ar7: return ul_state::sta8;
        // AR-8, release collision: the association requestor goes to Sta9, the acceptor to
        // Sta10.
        case ul_action::ar8: return condition ? ul_state::sta9 : ul_state::sta10;
        case ul_action::ar9: return ul_state::sta11;
        case ul_action::ar10: return ul_state::sta12;
        case ul_action::aa1: return ul_state::sta13;
        case ul_action::aa2: return ul_state::sta1;
        case ul_action::aa3: return ul_state::sta1;
        case ul_action::aa4: return ul_state::sta1;
        case ul_action::aa5: return ul_state::sta1;
        case ul_action::aa6: return ul_state::sta13;
        case ul_action::aa7: return ul_state::sta13;
        case ul_action::aa8: return ul_state::sta13;
        case ul_action::invalid: break;
    }
    return current;  // no transition: the state is unchanged
}

}  // namespace

ul_transition transition(ul_state state, ul_event event, bool condition) {
    // Both enums start at 1, as Sta1 and Evt1 do. A value outside them (a cast from a bad
    // integer) gets `invalid` like a blank cell, so that every input has an answer.
    const auto s = static_cast<std::size_t>(state);
    const auto e = static_cast<std::size_t>(event);
    if (s < 1 || s > state_count || e < 1 || e > event_count) return {ul_action::invalid, state};
    const ul_action action = table[e - 1][s - 1];
    return {action, next_state(action, condition, state)};
}

const char* ul_state_name(ul_state state) noexcept {
    static constexpr const char* names[state_count] = {
        "Sta1", "Sta2", "Sta3", "Sta4", "Sta5", "Sta6", "Sta7",
        "Sta8", "Sta9", "Sta10", "Sta11", "Sta12", "Sta13",
    };
    const auto s = static_cast<std::size_t>(state);
    return s >= 1 && s <= state_count ? names[s - 1] : "unknown state";
}

const char* ul_action_name(ul_action action) noexcept {
    switch (action) {
        case ul_action::ae1: return "AE-1";
        case ul_action::ae2: return "AE-2";
        case ul_action::ae3: return "AE-3";
        case ul_action::ae4: return "AE-4";
        case ul_action::ae5: return "AE-5";
        case ul_action::ae6: return "AE-6";
        case ul_action::ae7: return "AE-7";
        case ul_action::ae8: return "AE-8";
        case ul_action::dt1: return "DT-1";
        case ul_action::dt2: return "DT-2";
        case ul_action::ar1: return "AR-1";
        case ul_action::ar2: return "AR-2";
        case ul_action::ar3: return "AR-3";
        case ul_action::ar4: return "AR-4";
        case ul_action::ar5: return "AR-5";
        case ul_action::ar6: return "AR-6";
        case ul_action::ar7: return "AR-7";
        case ul_action::ar8: return "AR-8";
        case ul_action::ar9: return "AR-9";
        case ul_action::ar10: return "AR-10";
        case ul_action::aa1: return "AA-1";
        case ul_action::aa2: return "AA-2";
        case ul_action::aa3: return "AA-3";
        case ul_action::aa4: return "AA-4";
        case ul_action::aa5: return "AA-5";
        case ul_action::aa6: return "AA-6";
        case ul_action::aa7: return "AA-7";
        case ul_action::aa8: return "AA-8";
        case ul_action::invalid: return "invalid";
    }
    return "unknown action";
}

}  // namespace turbodicom::net
