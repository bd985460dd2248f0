package org.wsdetach.tyrus;

import jakarta.websocket.Session;
import org.glassfish.tyrus.container.grizzly.client.GrizzlyWriter;
import org.glassfish.tyrus.core.ProtocolHandler;
import org.glassfish.tyrus.core.TyrusRemoteEndpoint;
import org.glassfish.tyrus.core.TyrusWebSocket;
import org.glassfish.tyrus.spi.Writer;

import java.lang.reflect.Field;

/**
 * The only place the adapter reads private state of Tyrus, which the client side cannot do without:
 * Tyrus' client calls no listener of ours with a session, and its filter chain is built privately. Two
 * paths, resolved once: a client session to the writer Tyrus writes its frames with (ours, so it leads to
 * the {@link DetachableConnection}), and Tyrus' Grizzly writer to its Grizzly connection. On the module
 * path this needs {@code --add-opens} of {@code org.glassfish.tyrus.core/org.glassfish.tyrus.core} and
 * {@code org.glassfish.tyrus.container.grizzly.client/org.glassfish.tyrus.container.grizzly.client}.
 */
final class TyrusClientInternals {

    private static final Field REMOTE_WEB_SOCKET = field(TyrusRemoteEndpoint.class, "webSocket");
    private static final Field WEB_SOCKET_PROTOCOL_HANDLER = field(TyrusWebSocket.class, "protocolHandler");
    private static final Field PROTOCOL_HANDLER_WRITER = field(ProtocolHandler.class, "writer");
    private static final Field GRIZZLY_WRITER_CONNECTION = field(GrizzlyWriter.class, "connection");

    private TyrusClientInternals() {
    }

    /**
     * The detachable connection of a Tyrus client session, or null if it has none.
     *
     * @throws UnsupportedOperationException if this Tyrus cannot be read (another version, or closed modules)
     */
    static DetachableConnection connectionOf(Session session) {
        if (!(session.getBasicRemote() instanceof TyrusRemoteEndpoint)) {
            return null;
        }
        Object webSocket = read(REMOTE_WEB_SOCKET, session.getBasicRemote());
        Object protocolHandler = read(WEB_SOCKET_PROTOCOL_HANDLER, webSocket);
        return DetachableConnection.ofWriter(read(PROTOCOL_HANDLER_WRITER, protocolHandler));
    }

    /**
     * The Grizzly connection a Tyrus client writes to, or null if the writer is not Tyrus' Grizzly one or
     * cannot be read: the connection then goes on as plain Tyrus, and detaching its session is unsupported.
     */
    static org.glassfish.grizzly.Connection<?> transportOf(Writer writer) {
        return writer instanceof GrizzlyWriter && GRIZZLY_WRITER_CONNECTION != null
                ? (org.glassfish.grizzly.Connection<?>) read(GRIZZLY_WRITER_CONNECTION, writer) : null;
    }

    /** The field, or null if it cannot be reached: then {@link #read} says why, when it is needed. */
    private static Field field(Class<?> type, String name) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.getLogger(TyrusClientInternals.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot reach " + type.getName() + "." + name, e);
            return null;
        }
    }

    private static Object read(Field field, Object target) {
        if (field == null) {
            throw new UnsupportedOperationException("wsdetach cannot detach Tyrus client sessions here: Tyrus"
                    + " 2.2.2 is expected, with org.glassfish.tyrus.core and"
                    + " org.glassfish.tyrus.container.grizzly.client open to it on the module path");
        }
        try {
            return field.get(target);
        } catch (IllegalAccessException e) {
            throw new UnsupportedOperationException("wsdetach cannot read " + field, e);
        }
    }
}
