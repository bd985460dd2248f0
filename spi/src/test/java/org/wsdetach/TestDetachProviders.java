package org.wsdetach;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.wsdetach.spi.DetachProvider;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The two providers that {@code META-INF/services} registers for the tests, in this order: {@link First}
 * supports the sessions whose id starts with "first", {@link Second} those whose id starts with "first" or
 * "second". Each records the calls it gets.
 */
public final class TestDetachProviders {

    /** A call a provider got; {@code closeReason} is null for {@code detachOnPeerClose}. */
    record Call(String provider, String method, Session session, CloseReason closeReason, Duration timeout,
                DetachHandler handler, CompletableFuture<DetachedConnection> result) {
    }

    static final List<Call> CALLS = new CopyOnWriteArrayList<>();

    private TestDetachProviders() {
    }

    /** A session that answers only {@code getId}, {@code toString}, {@code equals} and {@code hashCode}. */
    static Session session(String id) {
        return (Session) Proxy.newProxyInstance(Session.class.getClassLoader(), new Class<?>[] {Session.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getId" -> id;
                    case "toString" -> "session " + id;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private abstract static class Recording implements DetachProvider {
        @Override
        public CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason,
                                                            Duration timeout, DetachHandler handler) {
            CompletableFuture<DetachedConnection> result = new CompletableFuture<>();
            CALLS.add(new Call(getClass().getSimpleName(), "detach", session, closeReason, timeout, handler, result));
            return result;
        }

        @Override
        public void detachOnPeerClose(Session session, Duration timeout, DetachHandler handler) {
            CALLS.add(new Call(getClass().getSimpleName(), "detachOnPeerClose", session, null, timeout, handler,
                    null));
        }
    }

    public static final class First extends Recording {
        @Override
        public boolean supports(Session session) {
            return session.getId().startsWith("first");
        }
    }

    public static final class Second extends Recording {
        @Override
        public boolean supports(Session session) {
            return session.getId().startsWith("first") || session.getId().startsWith("second");
        }
    }
}
