package org.wsdetach.tomcat;

import jakarta.websocket.SendHandler;
import org.apache.tomcat.util.net.AbstractEndpoint;
import org.apache.tomcat.util.net.SecureNioChannel;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.websocket.WsFrameBase;
import org.apache.tomcat.websocket.WsRemoteEndpointImplBase;
import org.apache.tomcat.websocket.WsSession;
import org.apache.tomcat.websocket.server.WsHttpUpgradeHandler;

import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The only place the adapter touches members of Tomcat that are not public, all of them resolved once, when
 * the class loads. Tomcat 10.1 and 11 have them all; if one is missing, detach is unsupported
 * ({@link UnsupportedOperationException}, before a byte is written) and sessions behave exactly as on stock
 * Tomcat.
 *
 * <ul>
 * <li>{@code WsHttpUpgradeHandler}'s session, frame reader and remote endpoint: it creates them privately.</li>
 * <li>{@code WsFrameBase.inputBuffer}: the bytes Tomcat read and has not parsed, which a detach takes over;
 * {@code WsFrameBase.state}: whether the one byte Tomcat holds there is the start of a frame (Tomcat parses a
 * header from its second byte on).</li>
 * <li>{@code WsRemoteEndpointImplBase.startMessage}: queues our close frame in Tomcat's own write queue, behind
 * the frames queued before it, without blocking.</li>
 * <li>{@code SocketWrapperBase.closed} and {@code getEndpoint}, {@code AbstractEndpoint.countDownConnection} and
 * {@code AbstractEndpoint.connections}: a hand-over takes the connection out of the connector's books without
 * closing it. Tomcat has no way to let go of a connection; marked closed, it closes it no more.</li>
 * <li>{@code SecureNioChannel.netInBuffer}: the network bytes of an incomplete TLS record.</li>
 * </ul>
 */
final class TomcatInternals {

    private static final List<String> MISSING = new ArrayList<>();

    private static final Field HANDLER_SESSION = field(WsHttpUpgradeHandler.class, "wsSession");
    private static final Field HANDLER_FRAME = field(WsHttpUpgradeHandler.class, "wsFrame");
    private static final Field HANDLER_REMOTE = field(WsHttpUpgradeHandler.class, "wsRemoteEndpointServer");
    private static final Field FRAME_INPUT_BUFFER = field(WsFrameBase.class, "inputBuffer");
    private static final Field FRAME_STATE = field(WsFrameBase.class, "state");
    private static final Method REMOTE_START_MESSAGE = method(WsRemoteEndpointImplBase.class, "startMessage",
            byte.class, ByteBuffer.class, boolean.class, SendHandler.class);
    private static final Field SOCKET_CLOSED = field(SocketWrapperBase.class, "closed");
    private static final Method SOCKET_ENDPOINT = method(SocketWrapperBase.class, "getEndpoint");
    private static final Method ENDPOINT_COUNT_DOWN = method(AbstractEndpoint.class, "countDownConnection");
    private static final Field ENDPOINT_CONNECTIONS = field(AbstractEndpoint.class, "connections");
    private static final Field TLS_NET_IN_BUFFER = field(SecureNioChannel.class, "netInBuffer");

    private TomcatInternals() {
    }

    /** The members this Tomcat does not have as expected; empty on Tomcat 10.1.49 and 11.0.27. */
    static List<String> unresolved() {
        synchronized (MISSING) {
            return List.copyOf(MISSING);
        }
    }

    /** @throws UnsupportedOperationException if this Tomcat's internals are not as the adapter expects */
    static void check() {
        checkNoneMissing(unresolved());
    }

    static void checkNoneMissing(List<String> missing) {
        if (!missing.isEmpty()) {
            throw new UnsupportedOperationException("wsdetach-tomcat cannot detach on "
                    + org.apache.catalina.util.ServerInfo.getServerInfo() + ": it lacks " + String.join(", ", missing)
                    + " (Tomcat 10.1 and 11 have them)");
        }
    }

    static WsSession session(WsHttpUpgradeHandler handler) {
        return (WsSession) get(HANDLER_SESSION, handler);
    }

    static ByteBuffer inputBuffer(WsHttpUpgradeHandler handler) {
        return (ByteBuffer) get(FRAME_INPUT_BUFFER, get(HANDLER_FRAME, handler));
    }

    /** Whether the handler's frame reader is between frames. */
    static boolean atFrameStart(WsHttpUpgradeHandler handler) {
        return ((Enum<?>) get(FRAME_STATE, get(HANDLER_FRAME, handler))).name().equals("NEW_FRAME");
    }

    /** Queues a frame in the handler's remote endpoint; {@code done} is told when it is written, or not. */
    static void queue(WsHttpUpgradeHandler handler, byte opcode, ByteBuffer payload, SendHandler done) {
        try {
            REMOTE_START_MESSAGE.invoke(get(HANDLER_REMOTE, handler), opcode, payload, true, done);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Takes {@code socket} out of its connector's books, and makes the connector's later closes of it no-ops. */
    static void forget(SocketWrapperBase<?> socket, Object connectionKey) {
        if (!((AtomicBoolean) get(SOCKET_CLOSED, socket)).compareAndSet(false, true)) {
            return;
        }
        try {
            Object endpoint = SOCKET_ENDPOINT.invoke(socket);
            ((Map<?, ?>) get(ENDPOINT_CONNECTIONS, endpoint)).remove(connectionKey);
            ENDPOINT_COUNT_DOWN.invoke(endpoint);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The TLS network bytes {@code channel} read and has not decrypted, in read mode (a copy). */
    static ByteBuffer undecrypted(SecureNioChannel channel) {
        ByteBuffer held = ((ByteBuffer) get(TLS_NET_IN_BUFFER, channel)).duplicate().flip();
        return ByteBuffer.allocate(held.remaining()).put(held).flip();
    }

    private static Object get(Field field, Object owner) {
        try {
            return field.get(owner);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field field(Class<?> owner, String name) {
        try {
            return accessible(owner.getDeclaredField(name));
        } catch (NoSuchFieldException | RuntimeException e) {
            missing(owner.getSimpleName() + "." + name);
            return null;
        }
    }

    private static Method method(Class<?> owner, String name, Class<?>... parameters) {
        try {
            return accessible(owner.getDeclaredMethod(name, parameters));
        } catch (NoSuchMethodException | RuntimeException e) {
            missing(owner.getSimpleName() + "." + name + "()");
            return null;
        }
    }

    private static <T extends AccessibleObject> T accessible(T member) {
        member.setAccessible(true);
        return member;
    }

    private static void missing(String what) {
        synchronized (MISSING) {
            MISSING.add(what);
        }
    }
}
