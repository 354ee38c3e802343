// Tests of the upper layer state machine (net/state_machine.hpp): every cell of PS3.8
// Table 9-10 against a second transcription of it written here in another form (one line
// per state, with the next state of each action spelled out), then whole exchanges between
// two machines wired back to back: association and release on either side, rejection, release
// collision, aborts in every state, ARTIM expiry, and unexpected PDUs.
// Plain executable: prints one line per failure, returns non-zero on failure.
#include "net/state_machine.hpp"

#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/test_support.hpp"

using namespace turbodicom::net;

// States and actions by name in CHECK_EQ messages.
namespace turbodicom::test {
inline std::string printable(ul_state s) { return ul_state_name(s); }
inline std::string printable(ul_action a) { return ul_action_name(a); }
}  // namespace turbodicom::test

namespace {

using turbodicom::test::fail;

ul_state sta(int n) { return static_cast<ul_state>(n); }
ul_event evt(int n) { return static_cast<ul_event>(n); }

std::string cell(int state, int event) {
    return std::string(ul_state_name(sta(state))) + " + Evt" + std::to_string(event);
}

// ---------------------------------------------------------------------------
// PS3.8 Table 9-10, transcribed by state rather than by event: one string per state with a
// token for each of Evt1..Evt19 in order. "." is a blank cell; "AA-8>13" is action AA-8
// leading to Sta13; "AE-6>3/13" leads to Sta3 when the condition holds and Sta13 when not.

const char* const expected_rows[13] = {
    // Evt: 1       2       3        4        5       6          7       8        9       10       11      12         13         14       15       16      17      18      19
    /*1*/  "AE-1>4  .       .        .        AE-5>2  .          .       .        .       .        .       .          .          .        .        .       .       .       .",
    /*2*/  ".       .       AA-1>13  AA-1>13  .       AE-6>3/13  .       .        .       AA-1>13  .       AA-1>13    AA-1>13    .        .        AA-2>1  AA-5>1  AA-2>1  AA-1>13",
    /*3*/  ".       .       AA-8>13  AA-8>13  .       AA-8>13    AE-7>6  AE-8>13  .       AA-8>13  .       AA-8>13    AA-8>13    .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*4*/  ".       AE-2>5  .        .        .       .          .       .        .       .        .       .          .          .        AA-2>1   .       AA-4>1  .       .",
    /*5*/  ".       .       AE-3>6   AE-4>1   .       AA-8>13    .       .        .       AA-8>13  .       AA-8>13    AA-8>13    .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*6*/  ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        DT-1>6  DT-2>6   AR-1>7  AR-2>8     AA-8>13    .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*7*/  ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        .       AR-6>7   .       AR-8>9/10  AR-3>1     .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*8*/  ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        AR-7>8  AA-8>13  .       AA-8>13    AA-8>13    AR-4>13  AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*9*/  ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        .       AA-8>13  .       AA-8>13    AA-8>13    AR-9>11  AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*10*/ ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        .       AA-8>13  .       AA-8>13    AR-10>12   .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*11*/ ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        .       AA-8>13  .       AA-8>13    AR-3>1     .        AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*12*/ ".       .       AA-8>13  AA-8>13  .       AA-8>13    .       .        .       AA-8>13  .       AA-8>13    AA-8>13    AR-4>13  AA-1>13  AA-3>1  AA-4>1  .       AA-8>13",
    /*13*/ ".       .       AA-6>13  AA-6>13  .       AA-7>13    .       .        .       AA-6>13  .       AA-6>13    AA-6>13    .        .        AA-2>1  AR-5>1  AA-2>1  AA-7>13",
};

struct expected_cell {
    std::string action;  // "invalid" for a blank cell
    int next_if_true = 0;
    int next_if_false = 0;  // equal to next_if_true unless the token names two states
};

// Parses one token of expected_rows; a blank cell leaves the state unchanged.
bool parse_token(const std::string& token, int state, expected_cell& out) {
    if (token == ".") {
        out = {"invalid", state, state};
        return true;
    }
    const auto gt = token.find('>');
    if (gt == std::string::npos) return false;
    out.action = token.substr(0, gt);
    const std::string states = token.substr(gt + 1);
    const auto slash = states.find('/');
    try {
        out.next_if_true = std::stoi(states.substr(0, slash));
        out.next_if_false = slash == std::string::npos ? out.next_if_true : std::stoi(states.substr(slash + 1));
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

void test_table_cell_by_cell() {
    int conditional_cells = 0;
    int valid_cells = 0;
    for (int s = 1; s <= 13; ++s) {
        std::istringstream row(expected_rows[s - 1]);
        std::vector<std::string> tokens;
        for (std::string t; row >> t;) tokens.push_back(t);
        if (tokens.size() != 19) {
            fail("expected_rows for Sta" + std::to_string(s) + " has " + std::to_string(tokens.size()) + " tokens");
            continue;
        }
        for (int e = 1; e <= 19; ++e) {
            expected_cell want;
            if (!parse_token(tokens[e - 1], s, want)) {
                fail("bad token \"" + tokens[e - 1] + "\" at " + cell(s, e));
                continue;
            }
            if (want.action != "invalid") ++valid_cells;
            if (want.next_if_true != want.next_if_false) ++conditional_cells;
            for (bool condition : {true, false}) {
                const ul_transition got = transition(sta(s), evt(e), condition);
                const int want_next = condition ? want.next_if_true : want.next_if_false;
                if (ul_action_name(got.action) != want.action || got.next != sta(want_next)) {
                    fail(cell(s, e) + (condition ? " (condition true)" : " (condition false)") + ": got " +
                         ul_action_name(got.action) + " -> " + ul_state_name(got.next) + ", expected " +
                         want.action + " -> Sta" + std::to_string(want_next));
                }
            }
        }
    }
    // Guards against a transcription that lost or gained cells in both places at once.
    CHECK_EQ(valid_cells, 123);
    CHECK_EQ(conditional_cells, 2);
}

// The default condition is `true`: AE-6 accepts and AR-8 takes the requestor's side.
void test_default_condition() {
    CHECK(transition(ul_state::sta2, ul_event::evt6).next == ul_state::sta3);
    CHECK(transition(ul_state::sta7, ul_event::evt12).next == ul_state::sta9);
    CHECK(transition(ul_state::sta6, ul_event::evt10).next == ul_state::sta6);
}

// Every action appears somewhere in the table, and each keeps one next state wherever it is
// used (the table gives actions; the next state belongs to the action, Tables 9-6 to 9-9).
void test_actions_have_fixed_next_states() {
    std::set<std::string> seen;
    for (int a = 0; a < static_cast<int>(ul_action::invalid); ++a) {
        const auto action = static_cast<ul_action>(a);
        std::set<int> nexts;
        for (int s = 1; s <= 13; ++s)
            for (int e = 1; e <= 19; ++e)
                for (bool c : {true, false}) {
                    const ul_transition t = transition(sta(s), evt(e), c);
                    if (t.action == action) nexts.insert(static_cast<int>(t.next));
                }
        const std::string name = ul_action_name(action);
        if (nexts.empty()) fail(name + " is used in no cell");
        const bool conditional = action == ul_action::ae6 || action == ul_action::ar8;
        if (nexts.size() != (conditional ? 2u : 1u))
            fail(name + " leads to " + std::to_string(nexts.size()) + " different states");
        seen.insert(name);
    }
    CHECK_EQ(seen.size(), std::size_t{28});
}

// transition() answers every input, including enum values outside Sta1..Sta13 / Evt1..Evt19.
void test_total() {
    for (int s = 0; s <= 255; ++s)
        for (int e = 0; e <= 255; ++e) {
            const bool in_range = s >= 1 && s <= 13 && e >= 1 && e <= 19;
            const ul_transition t = transition(sta(s), evt(e), (s + e) % 2 == 0);
            if (!in_range && (t.action != ul_action::invalid || t.next != sta(s)))
                fail("out-of-range state " + std::to_string(s) + ", event " + std::to_string(e) +
                     " did not give invalid with the state unchanged");
            if (in_range && t.action == ul_action::invalid && t.next != sta(s))
                fail(cell(s, e) + ": a blank cell changed the state");
        }
}

void test_names() {
    std::set<std::string> states;
    for (int s = 1; s <= 13; ++s) {
        const std::string name = ul_state_name(sta(s));
        CHECK_EQ(name, "Sta" + std::to_string(s));
        states.insert(name);
    }
    CHECK_EQ(states.size(), std::size_t{13});
    CHECK(std::strlen(ul_state_name(sta(0))) > 0);
    CHECK(std::strlen(ul_state_name(sta(14))) > 0);
    CHECK(std::strlen(ul_state_name(sta(255))) > 0);

    CHECK_EQ(std::string(ul_action_name(ul_action::ae1)), "AE-1");
    CHECK_EQ(std::string(ul_action_name(ul_action::dt2)), "DT-2");
    CHECK_EQ(std::string(ul_action_name(ul_action::ar10)), "AR-10");
    CHECK_EQ(std::string(ul_action_name(ul_action::aa8)), "AA-8");
    CHECK_EQ(std::string(ul_action_name(ul_action::invalid)), "invalid");
    std::set<std::string> actions;
    for (int a = 0; a <= static_cast<int>(ul_action::invalid); ++a)
        actions.insert(ul_action_name(static_cast<ul_action>(a)));
    CHECK_EQ(actions.size(), std::size_t{29});
    CHECK(std::strlen(ul_action_name(static_cast<ul_action>(200))) > 0);
}

// ---------------------------------------------------------------------------
// Two machines back to back. Each action's effect on the peer follows its definition in
// PS3.8 9.2.2: a PDU sent becomes the matching "PDU received" event there, closing the
// transport becomes Evt17, and AE-1's TRANSPORT CONNECT gives the peer Evt5 and the
// caller Evt2.

struct peer {
    peer(const char* name_, bool requestor_) : name(name_), requestor(requestor_) {}
    const char* name;
    bool requestor;          // the condition for AR-8
    bool acceptable = true;  // the condition for AE-6
    ul_state state = ul_state::sta1;
    std::deque<ul_event> inbox;
};

struct wire {
    peer a{"A", true};   // association requestor
    peer b{"B", false};  // association acceptor
    std::string log;

    peer& other(peer& p) { return &p == &a ? b : a; }

    void apply(peer& p, ul_event e) {
        const bool condition = transition(p.state, e).action == ul_action::ar8 ? p.requestor : p.acceptable;
        const ul_transition t = transition(p.state, e, condition);
        if (!log.empty()) log += ' ';
        log += std::string(p.name) + ':' + ul_action_name(t.action);
        p.state = t.next;
        peer& q = other(p);
        switch (t.action) {
            case ul_action::ae1:
                q.inbox.push_back(ul_event::evt5);
                p.inbox.push_back(ul_event::evt2);
                break;
            case ul_action::ae2: q.inbox.push_back(ul_event::evt6); break;
            case ul_action::ae6:
                if (!condition) q.inbox.push_back(ul_event::evt4);
                break;
            case ul_action::ae7: q.inbox.push_back(ul_event::evt3); break;
            case ul_action::ae8: q.inbox.push_back(ul_event::evt4); break;
            case ul_action::dt1:
            case ul_action::ar7: q.inbox.push_back(ul_event::evt10); break;
            case ul_action::ar1: q.inbox.push_back(ul_event::evt12); break;
            case ul_action::ar4:
            case ul_action::ar9: q.inbox.push_back(ul_event::evt13); break;
            case ul_action::aa1:
            case ul_action::aa7:
            case ul_action::aa8: q.inbox.push_back(ul_event::evt16); break;
            case ul_action::ae4:
            case ul_action::ar3:
            case ul_action::aa2:
            case ul_action::aa3: q.inbox.push_back(ul_event::evt17); break;
            default: break;
        }
    }

    // Delivers queued events, one to A then one to B, until both inboxes are empty.
    void deliver() {
        for (int guard = 0; guard < 1000 && (!a.inbox.empty() || !b.inbox.empty()); ++guard) {
            for (peer* p : {&a, &b}) {
                if (p->inbox.empty()) continue;
                const ul_event e = p->inbox.front();
                p->inbox.pop_front();
                apply(*p, e);
            }
        }
    }

    // A local event (a primitive from the user, or the ARTIM timer) followed by delivery.
    void local(peer& p, ul_event e) {
        apply(p, e);
        deliver();
    }

    void associate() {
        local(a, ul_event::evt1);
        local(b, ul_event::evt7);
    }

    std::string take_log() {
        std::string out;
        out.swap(log);
        return out;
    }
};

void test_association_and_release_by_requestor() {
    wire w;
    w.associate();
    CHECK_EQ(w.take_log(), "A:AE-1 A:AE-2 B:AE-5 B:AE-6 B:AE-7 A:AE-3");
    CHECK(w.a.state == ul_state::sta6 && w.b.state == ul_state::sta6);

    w.local(w.a, ul_event::evt9);
    w.local(w.b, ul_event::evt9);
    CHECK_EQ(w.take_log(), "A:DT-1 B:DT-2 B:DT-1 A:DT-2");

    w.local(w.a, ul_event::evt11);
    CHECK(w.a.state == ul_state::sta7 && w.b.state == ul_state::sta8);
    w.local(w.b, ul_event::evt9);  // the acceptor may still send data before answering
    CHECK(w.a.state == ul_state::sta7 && w.b.state == ul_state::sta8);
    w.local(w.b, ul_event::evt14);
    CHECK_EQ(w.take_log(), "A:AR-1 B:AR-2 B:AR-7 A:AR-6 B:AR-4 A:AR-3 B:AR-5");
    CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);
}

void test_release_by_acceptor() {
    wire w;
    w.associate();
    w.take_log();
    w.local(w.b, ul_event::evt11);
    CHECK(w.b.state == ul_state::sta7 && w.a.state == ul_state::sta8);
    w.local(w.a, ul_event::evt14);
    CHECK_EQ(w.take_log(), "B:AR-1 A:AR-2 A:AR-4 B:AR-3 A:AR-5");
    CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);
}

void test_rejection() {
    {  // by the acceptor's user
        wire w;
        w.local(w.a, ul_event::evt1);
        CHECK(w.b.state == ul_state::sta3);
        w.local(w.b, ul_event::evt8);
        CHECK_EQ(w.take_log(), "A:AE-1 A:AE-2 B:AE-5 B:AE-6 B:AE-8 A:AE-4 B:AR-5");
        CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);
    }
    {  // by the acceptor's service provider, within AE-6
        wire w;
        w.b.acceptable = false;
        w.local(w.a, ul_event::evt1);
        CHECK_EQ(w.take_log(), "A:AE-1 A:AE-2 B:AE-5 B:AE-6 A:AE-4 B:AR-5");
        CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);
    }
    {  // after a rejection the requestor never closes: ARTIM ends Sta13
        const ul_transition t = transition(ul_state::sta2, ul_event::evt6, false);
        CHECK(t.action == ul_action::ae6 && t.next == ul_state::sta13);
        CHECK(transition(t.next, ul_event::evt18).action == ul_action::aa2);
        CHECK(transition(t.next, ul_event::evt18).next == ul_state::sta1);
    }
}

// PS3.8 9.2.3: both sides send A-RELEASE-RQ; AR-8 sends the requestor to Sta9 and the
// acceptor to Sta10. The requestor answers first (AR-9), then the acceptor (AR-10, AR-4).
void test_release_collision() {
    wire w;
    w.associate();
    w.take_log();
    w.apply(w.a, ul_event::evt11);  // both release before either request arrives
    w.apply(w.b, ul_event::evt11);
    w.deliver();
    CHECK_EQ(w.take_log(), "A:AR-1 B:AR-1 A:AR-8 B:AR-8");
    CHECK_EQ(w.a.state, ul_state::sta9);
    CHECK_EQ(w.b.state, ul_state::sta10);

    w.local(w.b, ul_event::evt14);  // the acceptor's user may not answer yet: no cell
    CHECK_EQ(w.take_log(), "B:invalid");
    CHECK_EQ(w.b.state, ul_state::sta10);

    w.local(w.a, ul_event::evt14);
    CHECK_EQ(w.take_log(), "A:AR-9 B:AR-10");
    CHECK_EQ(w.a.state, ul_state::sta11);
    CHECK_EQ(w.b.state, ul_state::sta12);

    w.local(w.b, ul_event::evt14);
    CHECK_EQ(w.take_log(), "B:AR-4 A:AR-3 B:AR-5");
    CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);

    // The same cells one at a time, for each side.
    CHECK_EQ(transition(ul_state::sta7, ul_event::evt12, true).next, ul_state::sta9);
    CHECK_EQ(transition(ul_state::sta7, ul_event::evt12, false).next, ul_state::sta10);
    CHECK_EQ(transition(ul_state::sta9, ul_event::evt14).next, ul_state::sta11);
    CHECK_EQ(transition(ul_state::sta11, ul_event::evt13).next, ul_state::sta1);
    CHECK_EQ(transition(ul_state::sta10, ul_event::evt13).next, ul_state::sta12);
    CHECK_EQ(transition(ul_state::sta12, ul_event::evt14).next, ul_state::sta13);
}

// A-ABORT request (Evt15), A-ABORT PDU (Evt16) and transport closed (Evt17), state by state.
void test_abort_in_each_state() {
    using A = ul_action;
    const A local_abort[13] = {A::invalid, A::invalid, A::aa1, A::aa2, A::aa1, A::aa1, A::aa1,
                               A::aa1,     A::aa1,     A::aa1, A::aa1, A::aa1, A::invalid};
    const A abort_pdu[13] = {A::invalid, A::aa2, A::aa3, A::invalid, A::aa3, A::aa3, A::aa3,
                             A::aa3,     A::aa3, A::aa3, A::aa3,     A::aa3, A::aa2};
    const A closed[13] = {A::invalid, A::aa5, A::aa4, A::aa4, A::aa4, A::aa4, A::aa4,
                          A::aa4,     A::aa4, A::aa4, A::aa4, A::aa4, A::ar5};
    for (int s = 1; s <= 13; ++s) {
        const ul_transition t15 = transition(sta(s), ul_event::evt15);
        CHECK_EQ(t15.action, local_abort[s - 1]);
        if (t15.action == A::aa1) CHECK_EQ(t15.next, ul_state::sta13);  // waits for the close
        if (t15.action == A::aa2) CHECK_EQ(t15.next, ul_state::sta1);   // Sta4: nothing to send on

        const ul_transition t16 = transition(sta(s), ul_event::evt16);
        CHECK_EQ(t16.action, abort_pdu[s - 1]);
        if (t16.action != A::invalid) CHECK_EQ(t16.next, ul_state::sta1);

        const ul_transition t17 = transition(sta(s), ul_event::evt17);
        CHECK_EQ(t17.action, closed[s - 1]);
        if (t17.action != A::invalid) CHECK_EQ(t17.next, ul_state::sta1);
    }

    // Both sides, from an established association: AA-1, the peer's AA-3 closes, AR-5.
    wire w;
    w.associate();
    w.take_log();
    w.local(w.a, ul_event::evt15);
    CHECK_EQ(w.take_log(), "A:AA-1 B:AA-3 A:AR-5");
    CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);

    // An abort while the acceptor's user decides: the requestor is in Sta5, the acceptor in Sta3.
    wire x;
    x.local(x.a, ul_event::evt1);
    x.take_log();
    CHECK(x.a.state == ul_state::sta5 && x.b.state == ul_state::sta3);
    x.local(x.b, ul_event::evt15);
    CHECK_EQ(x.take_log(), "B:AA-1 A:AA-3 B:AR-5");
    CHECK(x.a.state == ul_state::sta1 && x.b.state == ul_state::sta1);
}

// PS3.8 9.1.5: ARTIM runs in Sta2 (awaiting A-ASSOCIATE-RQ) and Sta13 (awaiting the close);
// expiry anywhere else has no cell.
void test_artim_expiry() {
    for (int s = 1; s <= 13; ++s) {
        const ul_transition t = transition(sta(s), ul_event::evt18);
        if (s == 2 || s == 13) {
            CHECK_EQ(t.action, ul_action::aa2);
            CHECK_EQ(t.next, ul_state::sta1);
        } else {
            if (t.action != ul_action::invalid) fail(cell(s, 18) + " should be blank");
        }
    }
    // A connection that never sends an A-ASSOCIATE-RQ.
    ul_state s = transition(ul_state::sta1, ul_event::evt5).next;
    CHECK_EQ(s, ul_state::sta2);
    s = transition(s, ul_event::evt18).next;
    CHECK_EQ(s, ul_state::sta1);
    // A release answered (AR-4) but the peer does not close the connection.
    s = transition(ul_state::sta8, ul_event::evt14).next;
    CHECK_EQ(s, ul_state::sta13);
    s = transition(s, ul_event::evt18).next;
    CHECK_EQ(s, ul_state::sta1);
}

// Sta6 takes only P-DATA-TF, A-RELEASE-RQ and A-ABORT PDUs; any other PDU is AA-8 (A-ABORT,
// A-P-ABORT indication, ARTIM) and then Sta13 ignores (AA-6) or aborts (AA-7) what follows.
void test_unexpected_pdus_in_sta6() {
    for (ul_event e : {ul_event::evt3, ul_event::evt4, ul_event::evt6, ul_event::evt13, ul_event::evt19}) {
        const ul_transition t = transition(ul_state::sta6, e);
        if (t.action != ul_action::aa8 || t.next != ul_state::sta13)
            fail(cell(6, static_cast<int>(e)) + ": expected AA-8 -> Sta13, got " + ul_action_name(t.action) +
                 " -> " + ul_state_name(t.next));
    }
    CHECK_EQ(transition(ul_state::sta13, ul_event::evt10).action, ul_action::aa6);
    CHECK_EQ(transition(ul_state::sta13, ul_event::evt10).next, ul_state::sta13);
    CHECK_EQ(transition(ul_state::sta13, ul_event::evt6).action, ul_action::aa7);
    CHECK_EQ(transition(ul_state::sta13, ul_event::evt19).action, ul_action::aa7);

    // The peer sends a second A-ASSOCIATE-AC on an established association.
    wire w;
    w.associate();
    w.take_log();
    w.b.inbox.push_back(ul_event::evt3);
    w.deliver();
    CHECK_EQ(w.take_log(), "B:AA-8 A:AA-3 B:AR-5");
    CHECK(w.a.state == ul_state::sta1 && w.b.state == ul_state::sta1);

    // Data still in flight after AA-8 is ignored until the connection closes.
    wire x;
    x.associate();
    x.take_log();
    x.apply(x.b, ul_event::evt19);
    CHECK_EQ(x.b.state, ul_state::sta13);
    x.apply(x.b, ul_event::evt10);
    CHECK_EQ(x.b.state, ul_state::sta13);
    CHECK_EQ(x.take_log(), "B:AA-8 B:AA-6");
}

// Events that belong to the other role or to no connection at all have no cell.
void test_blank_cells() {
    CHECK_EQ(transition(ul_state::sta1, ul_event::evt10).action, ul_action::invalid);  // no connection
    CHECK_EQ(transition(ul_state::sta1, ul_event::evt15).action, ul_action::invalid);
    CHECK_EQ(transition(ul_state::sta6, ul_event::evt1).action, ul_action::invalid);   // already associated
    CHECK_EQ(transition(ul_state::sta7, ul_event::evt9).action, ul_action::invalid);   // no data after A-RELEASE rq
    CHECK_EQ(transition(ul_state::sta4, ul_event::evt16).action, ul_action::invalid);  // no PDU before connect
    CHECK_EQ(transition(ul_state::sta13, ul_event::evt15).action, ul_action::invalid);
    CHECK_EQ(transition(ul_state::sta2, ul_event::evt15).action, ul_action::invalid);
}

}  // namespace

int main() {
    turbodicom::test::run({
        test_table_cell_by_cell,
        test_default_condition,
        test_actions_have_fixed_next_states,
        test_total,
        test_names,
        test_association_and_release_by_requestor,
        test_release_by_acceptor,
        test_rejection,
        test_release_collision,
        test_abort_in_each_state,
        test_artim_expiry,
        test_unexpected_pdus_in_sta6,
        test_blank_cells,
    });
    return turbodicom::test::exit_code("state_machine_test");
}
