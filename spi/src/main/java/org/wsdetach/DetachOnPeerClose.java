package org.wsdetach;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares that every session of the annotated endpoint detaches when the peer sends its close frame,
 * as if {@link Detach#detachOnPeerClose(jakarta.websocket.Session, java.time.Duration, DetachHandler)} had
 * been called in {@code @OnOpen} with {@link #timeoutMillis()} and a new instance of {@link #value()}.
 *
 * <p>The handler class must be a public, non-abstract class, top-level or static nested, with a public
 * no-argument constructor, in a package that its module exports (on the module path: to
 * {@code org.wsdetach.core} at least); one instance is created per session, when the session opens. The providers check
 * this, and {@link #timeoutMillis()}, when the endpoint is deployed, at the container's start or later, by
 * refusing it with a {@link jakarta.websocket.DeploymentException} naming the endpoint class, the handler class
 * and what is wrong, which the container reports as it reports a bad endpoint. (Where a container's internals are
 * not as its provider expects, the fault shows at the endpoint's handshakes or when a session opens.) A constructor that
 * throws can only be found when a session opens: that session then does not open, and its connection is
 * closed. A registration made with {@link Detach#detachOnPeerClose} replaces the declared one for that session.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface DetachOnPeerClose {

    /**
     * The handler that receives each session's connection.
     *
     * @return the handler class
     */
    Class<? extends DetachHandler> value();

    /**
     * How long a close frame that has begun to arrive may take, until the hand-over, in milliseconds; at
     * least 1. {@link Long#MAX_VALUE} means no bound.
     *
     * @return the timeout in milliseconds; by default that of {@link Detach#DEFAULT_TIMEOUT}
     */
    long timeoutMillis() default 30_000;
}
