package org.wsdetach;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wsdetach.TestDetachProviders.Call;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.TestDetachProviders.CALLS;
import static org.wsdetach.TestDetachProviders.session;

/** The checks and the provider look-up of {@link Detach}, against the providers of {@link TestDetachProviders}. */
class DetachTest {

    private static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    private static final DetachHandler HANDLER = connection -> { };
    private static final String PROVIDERS = "[org.wsdetach.TestDetachProviders$First, "
            + "org.wsdetach.TestDetachProviders$Second]";

    @BeforeEach
    void forgetCalls() {
        CALLS.clear();
    }

    @Test
    void theTimeoutsAreAsDocumented() {
        assertThat(Detach.DEFAULT_TIMEOUT).isEqualTo(Duration.ofSeconds(30));
        assertThat(Detach.NO_DEADLINE).isEqualTo(ChronoUnit.FOREVER.getDuration());
    }

    @Test
    void detachGoesToTheFirstProviderThatSupportsTheSessionWithItsArguments() {
        Session session = session("first-1");
        Duration timeout = Duration.ofMillis(1234);
        CompletableFuture<DetachedConnection> future = Detach.detach(session, BYE, timeout, HANDLER);
        assertThat(CALLS).singleElement().satisfies(call -> {
            assertThat(call.provider()).isEqualTo("First");
            assertThat(call.method()).isEqualTo("detach");
            assertThat(call.session()).isSameAs(session);
            assertThat(call.closeReason()).isSameAs(BYE);
            assertThat(call.timeout()).isSameAs(timeout);
            assertThat(call.handler()).isSameAs(HANDLER);
            assertThat(call.result()).isSameAs(future);
        });
    }

    @Test
    void aSessionOnlyALaterProviderSupportsGoesToThatOne() {
        Session session = session("second-1");
        CompletableFuture<DetachedConnection> future = Detach.detach(session, BYE, Duration.ZERO, HANDLER);
        assertThat(CALLS).singleElement().satisfies(call -> {
            assertThat(call.provider()).isEqualTo("Second");
            assertThat(call.result()).isSameAs(future);
        });
    }

    @Test
    void detachWithoutTimeoutUsesTheDefault() {
        Session session = session("first-2");
        CompletableFuture<DetachedConnection> future = Detach.detach(session, BYE, HANDLER);
        assertThat(CALLS).singleElement().satisfies(call -> {
            assertThat(call.timeout()).isEqualTo(Detach.DEFAULT_TIMEOUT);
            assertThat(call.result()).isSameAs(future);
        });
    }

    @Test
    void aZeroTimeoutAndNoDeadlineAreValidForDetach() {
        Detach.detach(session("first-3"), BYE, Duration.ZERO, HANDLER);
        Detach.detach(session("first-4"), BYE, Detach.NO_DEADLINE, HANDLER);
        assertThat(CALLS).extracting(Call::timeout).containsExactly(Duration.ZERO, Detach.NO_DEADLINE);
    }

    @Test
    void aNegativeTimeoutIsRejectedBeforeAnyProviderIsAsked() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Detach.detach(session("first-5"), BYE, Duration.ofNanos(-1), HANDLER))
                .withMessage("negative timeout: PT-0.000000001S");
        assertThat(CALLS).isEmpty();
    }

    @Test
    void aCloseReasonThatMayNotBeSentIsRejectedBeforeAnyProviderIsAsked() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Detach.detach(session("first-6"), new CloseReason(CloseCodes.CLOSED_ABNORMALLY, ""),
                        Duration.ZERO, HANDLER))
                .withMessage("close status 1006 may not be sent; use 1000-1003, 1007-1014 or 3000-4999");
        assertThat(CALLS).isEmpty();
    }

    @Test
    void detachRejectsNullArguments() {
        Session session = session("first-7");
        assertThatNullPointerException().isThrownBy(() -> Detach.detach(null, BYE, Duration.ZERO, HANDLER))
                .withMessage("session");
        assertThatNullPointerException().isThrownBy(() -> Detach.detach(session, null, Duration.ZERO, HANDLER))
                .withMessage("closeReason");
        assertThatNullPointerException().isThrownBy(() -> Detach.detach(session, BYE, null, HANDLER))
                .withMessage("timeout");
        assertThatNullPointerException().isThrownBy(() -> Detach.detach(session, BYE, Duration.ZERO, null))
                .withMessage("handler");
        assertThat(CALLS).isEmpty();
    }

    @Test
    void detachOnPeerCloseGoesToTheFirstProviderThatSupportsTheSession() {
        Session first = session("first-8");
        Session second = session("second-2");
        Duration timeout = Duration.ofMillis(1);
        Detach.detachOnPeerClose(first, timeout, HANDLER);
        Detach.detachOnPeerClose(second, Detach.NO_DEADLINE, HANDLER);
        assertThat(CALLS).hasSize(2);
        assertThat(CALLS.get(0)).satisfies(call -> {
            assertThat(call.provider()).isEqualTo("First");
            assertThat(call.method()).isEqualTo("detachOnPeerClose");
            assertThat(call.session()).isSameAs(first);
            assertThat(call.timeout()).isSameAs(timeout);
            assertThat(call.handler()).isSameAs(HANDLER);
        });
        assertThat(CALLS.get(1)).satisfies(call -> {
            assertThat(call.provider()).isEqualTo("Second");
            assertThat(call.session()).isSameAs(second);
            assertThat(call.timeout()).isSameAs(Detach.NO_DEADLINE);
        });
    }

    @Test
    void detachOnPeerCloseWithoutTimeoutUsesTheDefault() {
        Detach.detachOnPeerClose(session("first-9"), HANDLER);
        assertThat(CALLS).singleElement().extracting(Call::timeout).isEqualTo(Detach.DEFAULT_TIMEOUT);
    }

    @ParameterizedTest(name = "{0} ns")
    @ValueSource(longs = {0, -1})
    void aPeerInitiatedDetachNeedsAPositiveTimeout(long nanos) {
        Duration timeout = Duration.ofNanos(nanos);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Detach.detachOnPeerClose(session("first-10"), timeout, HANDLER))
                .withMessage("the timeout of a peer-initiated detach must be positive: " + timeout);
        assertThat(CALLS).isEmpty();
    }

    @Test
    void detachOnPeerCloseRejectsNullArguments() {
        Session session = session("first-11");
        assertThatNullPointerException().isThrownBy(() -> Detach.detachOnPeerClose(null, Duration.ofSeconds(1), HANDLER))
                .withMessage("session");
        assertThatNullPointerException().isThrownBy(() -> Detach.detachOnPeerClose(session, null, HANDLER))
                .withMessage("timeout");
        assertThatNullPointerException().isThrownBy(() -> Detach.detachOnPeerClose(session, Duration.ofSeconds(1), null))
                .withMessage("handler");
        assertThat(CALLS).isEmpty();
    }

    @Test
    void aSessionNoProviderSupportsIsUnsupportedAndTheMessageNamesTheProviders() {
        Session session = session("third");
        String message = "no detach provider supports " + session.getClass().getName() + "; providers found: "
                + PROVIDERS;
        assertThatThrownBy(() -> Detach.detach(session, BYE, Duration.ZERO, HANDLER))
                .isInstanceOf(UnsupportedOperationException.class).hasMessage(message);
        assertThatThrownBy(() -> Detach.detachOnPeerClose(session, Duration.ofSeconds(1), HANDLER))
                .isInstanceOf(UnsupportedOperationException.class).hasMessage(message);
        assertThat(CALLS).isEmpty();
    }
}
