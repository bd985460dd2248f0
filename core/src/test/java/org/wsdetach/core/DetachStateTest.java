package org.wsdetach.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.core.DetachState.State;

/** Every event in every state: the state it leads to and what it returns (ISE for a refusal). */
class DetachStateTest {

    /** Ways to reach each state from OPEN. */
    private static final Map<State, List<String>> PATHS = Map.of(
            State.OPEN, List.of(),
            State.ARMED, List.of("arm"),
            State.CLOSING, List.of("peerCloseBegins"),
            State.AWAITING_PEER_CLOSE, List.of("detach"),
            State.PEER_CLOSE_ARRIVING, List.of("arm", "peerCloseBegins"),
            State.HANDING_OVER, List.of("detach", "peerCloseComplete"),
            State.DETACHED, List.of("detach", "peerCloseComplete", "closeWritten", "readsStopped", "sessionClosed"),
            State.FAILED, List.of("detach", "fail"));

    private static final Map<String, Function<DetachState, Object>> EVENTS = Map.ofEntries(
            Map.entry("arm", s -> {
                s.arm();
                return "-";
            }),
            Map.entry("detach", s -> {
                s.detach();
                return "-";
            }),
            Map.entry("writeData", s -> s.containerWrite(false)),
            Map.entry("writeClose", s -> s.containerWrite(true)),
            Map.entry("containerReleases", DetachState::containerReleases),
            Map.entry("peerCloseBegins", DetachState::peerCloseBegins),
            Map.entry("protocolBroken", s -> {
                s.protocolBroken();
                return "-";
            }),
            Map.entry("peerCloseComplete", DetachState::peerCloseComplete),
            Map.entry("closeWritten", s -> s.met(DetachState.CLOSE_WRITTEN)),
            Map.entry("readsStopped", s -> s.met(DetachState.READS_STOPPED)),
            Map.entry("sessionClosed", s -> s.met(DetachState.SESSION_CLOSED)),
            Map.entry("fail", s -> String.valueOf(s.fail())),
            Map.entry("transportClosed", DetachState::transportClosed));

    /** Every event in every state: from, event, to, and what the event returns. */
    private static final String TRANSITIONS = """
            OPEN                | arm               | ARMED               | -
            OPEN                | detach            | AWAITING_PEER_CLOSE | -
            OPEN                | writeData         | OPEN                | WRITTEN
            OPEN                | writeClose        | CLOSING             | WRITTEN
            OPEN                | containerReleases | CLOSING             | true
            OPEN                | peerCloseBegins   | CLOSING             | TO_CONTAINER
            OPEN                | protocolBroken    | CLOSING             | -
            OPEN                | peerCloseComplete | OPEN                | ISE: no close frame is awaited in OPEN
            OPEN                | closeWritten      | OPEN                | false
            OPEN                | readsStopped      | OPEN                | false
            OPEN                | sessionClosed     | OPEN                | false
            OPEN                | fail              | OPEN                | null
            OPEN                | transportClosed   | CLOSING             | false

            ARMED               | arm               | ARMED               | -
            ARMED               | detach            | AWAITING_PEER_CLOSE | -
            ARMED               | writeData         | ARMED               | WRITTEN
            ARMED               | writeClose        | CLOSING             | WRITTEN
            ARMED               | containerReleases | CLOSING             | true
            ARMED               | peerCloseBegins   | PEER_CLOSE_ARRIVING | DETACH_BEGINS
            ARMED               | protocolBroken    | CLOSING             | -
            ARMED               | peerCloseComplete | ARMED               | ISE: no close frame is awaited in ARMED
            ARMED               | closeWritten      | ARMED               | false
            ARMED               | readsStopped      | ARMED               | false
            ARMED               | sessionClosed     | ARMED               | false
            ARMED               | fail              | ARMED               | null
            ARMED               | transportClosed   | CLOSING             | false

            CLOSING             | arm               | CLOSING             | ISE: the session is closing: the peer's close frame has arrived with no handler registered for it: a detach the peer starts must be registered before its close frame comes, with Detach.detachOnPeerClose or @DetachOnPeerClose (a client whose server detaches registers it before sending the message that makes the server detach)
            CLOSING             | detach            | CLOSING             | ISE: the session is closing: the peer's close frame has arrived with no handler registered for it: a detach the peer starts must be registered before its close frame comes, with Detach.detachOnPeerClose or @DetachOnPeerClose (a client whose server detaches registers it before sending the message that makes the server detach)
            CLOSING             | writeData         | CLOSING             | WRITTEN
            CLOSING             | writeClose        | CLOSING             | WRITTEN
            CLOSING             | containerReleases | CLOSING             | true
            CLOSING             | peerCloseBegins   | CLOSING             | TO_CONTAINER
            CLOSING             | protocolBroken    | CLOSING             | -
            CLOSING             | peerCloseComplete | CLOSING             | ISE: no close frame is awaited in CLOSING
            CLOSING             | closeWritten      | CLOSING             | false
            CLOSING             | readsStopped      | CLOSING             | false
            CLOSING             | sessionClosed     | CLOSING             | false
            CLOSING             | fail              | CLOSING             | null
            CLOSING             | transportClosed   | CLOSING             | false

            AWAITING_PEER_CLOSE | arm               | AWAITING_PEER_CLOSE | ISE: the session is already detaching
            AWAITING_PEER_CLOSE | detach            | AWAITING_PEER_CLOSE | ISE: the session is already detaching
            AWAITING_PEER_CLOSE | writeData         | AWAITING_PEER_CLOSE | REFUSED
            AWAITING_PEER_CLOSE | writeClose        | AWAITING_PEER_CLOSE | SWALLOWED
            AWAITING_PEER_CLOSE | containerReleases | AWAITING_PEER_CLOSE | false
            AWAITING_PEER_CLOSE | peerCloseBegins   | AWAITING_PEER_CLOSE | DETACHING
            AWAITING_PEER_CLOSE | protocolBroken    | AWAITING_PEER_CLOSE | -
            AWAITING_PEER_CLOSE | peerCloseComplete | HANDING_OVER        | false
            AWAITING_PEER_CLOSE | closeWritten      | AWAITING_PEER_CLOSE | false
            AWAITING_PEER_CLOSE | readsStopped      | AWAITING_PEER_CLOSE | false
            AWAITING_PEER_CLOSE | sessionClosed     | AWAITING_PEER_CLOSE | false
            AWAITING_PEER_CLOSE | fail              | FAILED              | AWAITING_PEER_CLOSE
            AWAITING_PEER_CLOSE | transportClosed   | AWAITING_PEER_CLOSE | true

            PEER_CLOSE_ARRIVING | arm               | PEER_CLOSE_ARRIVING | ISE: the session is already detaching
            PEER_CLOSE_ARRIVING | detach            | PEER_CLOSE_ARRIVING | ISE: the session is already detaching
            PEER_CLOSE_ARRIVING | writeData         | PEER_CLOSE_ARRIVING | REFUSED
            PEER_CLOSE_ARRIVING | writeClose        | PEER_CLOSE_ARRIVING | SWALLOWED
            PEER_CLOSE_ARRIVING | containerReleases | PEER_CLOSE_ARRIVING | false
            PEER_CLOSE_ARRIVING | peerCloseBegins   | PEER_CLOSE_ARRIVING | DETACHING
            PEER_CLOSE_ARRIVING | protocolBroken    | PEER_CLOSE_ARRIVING | -
            PEER_CLOSE_ARRIVING | peerCloseComplete | HANDING_OVER        | true
            PEER_CLOSE_ARRIVING | closeWritten      | PEER_CLOSE_ARRIVING | false
            PEER_CLOSE_ARRIVING | readsStopped      | PEER_CLOSE_ARRIVING | false
            PEER_CLOSE_ARRIVING | sessionClosed     | PEER_CLOSE_ARRIVING | false
            PEER_CLOSE_ARRIVING | fail              | FAILED              | PEER_CLOSE_ARRIVING
            PEER_CLOSE_ARRIVING | transportClosed   | PEER_CLOSE_ARRIVING | true

            HANDING_OVER        | arm               | HANDING_OVER        | ISE: the session is already detaching
            HANDING_OVER        | detach            | HANDING_OVER        | ISE: the session is already detaching
            HANDING_OVER        | writeData         | HANDING_OVER        | REFUSED
            HANDING_OVER        | writeClose        | HANDING_OVER        | SWALLOWED
            HANDING_OVER        | containerReleases | HANDING_OVER        | false
            HANDING_OVER        | peerCloseBegins   | HANDING_OVER        | DETACHING
            HANDING_OVER        | protocolBroken    | HANDING_OVER        | -
            HANDING_OVER        | peerCloseComplete | HANDING_OVER        | ISE: no close frame is awaited in HANDING_OVER
            HANDING_OVER        | closeWritten      | HANDING_OVER        | false
            HANDING_OVER        | readsStopped      | HANDING_OVER        | false
            HANDING_OVER        | sessionClosed     | HANDING_OVER        | false
            HANDING_OVER        | fail              | FAILED              | HANDING_OVER
            HANDING_OVER        | transportClosed   | HANDING_OVER        | true

            DETACHED            | arm               | DETACHED            | ISE: the session has been detached
            DETACHED            | detach            | DETACHED            | ISE: the session has been detached
            DETACHED            | writeData         | DETACHED            | REFUSED
            DETACHED            | writeClose        | DETACHED            | SWALLOWED
            DETACHED            | containerReleases | DETACHED            | false
            DETACHED            | peerCloseBegins   | DETACHED            | DETACHING
            DETACHED            | protocolBroken    | DETACHED            | -
            DETACHED            | peerCloseComplete | DETACHED            | ISE: no close frame is awaited in DETACHED
            DETACHED            | closeWritten      | DETACHED            | false
            DETACHED            | readsStopped      | DETACHED            | false
            DETACHED            | sessionClosed     | DETACHED            | false
            DETACHED            | fail              | DETACHED            | null
            DETACHED            | transportClosed   | DETACHED            | false

            FAILED              | arm               | FAILED              | ISE: the session's detach failed; it is closed
            FAILED              | detach            | FAILED              | ISE: the session's detach failed; it is closed
            FAILED              | writeData         | FAILED              | REFUSED
            FAILED              | writeClose        | FAILED              | SWALLOWED
            FAILED              | containerReleases | FAILED              | false
            FAILED              | peerCloseBegins   | FAILED              | DETACHING
            FAILED              | protocolBroken    | FAILED              | -
            FAILED              | peerCloseComplete | FAILED              | ISE: no close frame is awaited in FAILED
            FAILED              | closeWritten      | FAILED              | false
            FAILED              | readsStopped      | FAILED              | false
            FAILED              | sessionClosed     | FAILED              | false
            FAILED              | fail              | FAILED              | null
            FAILED              | transportClosed   | FAILED              | false
            """;

    @ParameterizedTest(name = "{0} --{1}--> {2} returning {3}")
    @CsvSource(delimiter = '|', textBlock = TRANSITIONS)
    void transition(State from, String event, State to, String outcome) {
        DetachState state = reach(from);
        Object result;
        try {
            result = EVENTS.get(event).apply(state);
        } catch (IllegalStateException refused) {
            result = "ISE: " + refused.getMessage();
        }
        assertThat(String.valueOf(result)).isEqualTo(outcome);
        assertThat(state.state()).isEqualTo(to);
    }

    @Test
    void theHandOverWaitsForTheLastConditionWhateverTheOrder() {
        List<List<String>> orders = List.of(
                List.of("closeWritten", "sessionClosed", "peerCloseComplete", "readsStopped"),
                List.of("sessionClosed", "closeWritten", "peerCloseComplete", "readsStopped"),
                List.of("peerCloseComplete", "readsStopped", "sessionClosed", "closeWritten"),
                List.of("peerCloseComplete", "closeWritten", "readsStopped", "sessionClosed"));
        for (List<String> order : orders) {
            DetachState state = reach(State.AWAITING_PEER_CLOSE);
            for (int i = 0; i < order.size(); i++) {
                Object result = EVENTS.get(order.get(i)).apply(state);
                boolean last = i == order.size() - 1;
                assertThat(result).as("%s after %s", order.get(i), order.subList(0, i)).isNotEqualTo(!last);
                assertThat(state.state() == State.DETACHED).as("detached after %s", order.subList(0, i + 1))
                        .isEqualTo(last);
            }
        }
    }

    @Test
    void conditionsMetOutsideADetachAreNotCounted() {
        DetachState state = new DetachState();
        assertThat(state.met(DetachState.CLOSE_WRITTEN)).isFalse();
        assertThat(state.met(DetachState.SESSION_CLOSED)).isFalse();
        state.detach();
        assertThat(state.toString()).isEqualTo("AWAITING_PEER_CLOSE conditions met 0b0");
    }

    @Test
    void allThreeConditionsBeforeThePeersCloseFrameAreNoHandOver() {
        DetachState state = reach(State.AWAITING_PEER_CLOSE);
        assertThat(state.met(DetachState.CLOSE_WRITTEN)).isFalse();
        assertThat(state.met(DetachState.READS_STOPPED)).isFalse();
        assertThat(state.met(DetachState.SESSION_CLOSED)).isFalse();
        assertThat(state.state()).isEqualTo(State.AWAITING_PEER_CLOSE);
    }

    @Test
    void everyStateHasAPathAndEveryTableEventExists() {
        assertThat(PATHS.keySet()).containsExactlyInAnyOrder(State.values());
        for (State target : State.values()) {
            assertThat(reach(target).state()).isEqualTo(target);
        }
    }

    @Test
    void theTableHasEveryEventInEveryStateOnce() {
        List<String> pairs = TRANSITIONS.lines().filter(line -> !line.isBlank())
                .map(line -> line.split("\\|"))
                .map(cells -> cells[0].trim() + " " + cells[1].trim())
                .toList();
        List<String> expected = new java.util.ArrayList<>();
        for (State state : State.values()) {
            for (String event : EVENTS.keySet()) {
                expected.add(state + " " + event);
            }
        }
        assertThat(pairs).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void theDescriptionOfADetachShowsTheConditionsMetSoFar() {
        DetachState state = reach(State.AWAITING_PEER_CLOSE);
        assertThat(state.toString()).isEqualTo("AWAITING_PEER_CLOSE conditions met 0b0");
        state.met(DetachState.CLOSE_WRITTEN);
        state.met(DetachState.SESSION_CLOSED);
        assertThat(state.toString()).isEqualTo("AWAITING_PEER_CLOSE conditions met 0b101");
        state.peerCloseComplete();
        assertThat(state.toString()).isEqualTo("HANDING_OVER conditions met 0b101");
        assertThat(state.met(DetachState.READS_STOPPED)).isTrue();
        assertThat(state.toString()).isEqualTo("DETACHED");
        assertThat(new DetachState().toString()).isEqualTo("OPEN");
        assertThat(reach(State.FAILED).toString()).isEqualTo("FAILED");
    }

    @Test
    void detachingIsTheThreeStatesBetweenTheStartOfADetachAndItsEnd() {
        for (State target : State.values()) {
            boolean detaching = target == State.AWAITING_PEER_CLOSE || target == State.PEER_CLOSE_ARRIVING
                    || target == State.HANDING_OVER;
            assertThat(reach(target).detaching()).as("%s", target).isEqualTo(detaching);
        }
    }

    @Test
    void theClosingReasonIsTheFirstOne() {
        DetachState state = new DetachState();
        state.containerWrite(true);
        state.peerCloseBegins();
        state.transportClosed();
        assertThat(state.toString()).isEqualTo("CLOSING (the container is closing it)");
    }

    private static DetachState reach(State target) {
        DetachState state = new DetachState();
        for (String event : PATHS.get(target)) {
            EVENTS.get(event).apply(state);
        }
        return state;
    }
}
