package org.wsdetach.tyrus;

import jakarta.websocket.Session;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.ssl.SSLBaseFilter;
import org.glassfish.tyrus.container.grizzly.client.GrizzlyWriter;
import org.glassfish.tyrus.core.ProtocolHandler;
import org.glassfish.tyrus.core.TyrusRemoteEndpoint;
import org.glassfish.tyrus.core.TyrusWebSocket;
import org.glassfish.tyrus.spi.Writer;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The only place the adapter reads private state of Tyrus and Grizzly, which it cannot do without in two
 * places. Every field is resolved once, when the class loads; one that cannot be makes the features that
 * need it unsupported ({@link UnsupportedOperationException}, before anything is sent), and nothing else.
 *
 * <ul>
 * <li>Tyrus' client calls no listener of ours with a session, and builds its filter chain privately: a
 * client session leads to the writer Tyrus writes its frames with (ours, so it leads to the
 * {@link TyrusConnection}) and Tyrus' Grizzly writer leads to its Grizzly connection.</li>
 * <li>Grizzly's SSL filter keeps the network bytes of an incomplete TLS record, read but not decrypted, in
 * its filter chain's per-connection state; a {@code wss} hand-over takes them out with the SSL engine.</li>
 * </ul>
 *
 * On the module path this needs {@code --add-opens} of {@code org.glassfish.tyrus.core/org.glassfish.tyrus.core}
 * and {@code org.glassfish.tyrus.container.grizzly.client/org.glassfish.tyrus.container.grizzly.client}
 * (Grizzly opens its filter chain package itself).
 */
final class TyrusInternals {

    private static final Field REMOTE_WEB_SOCKET = field(TyrusRemoteEndpoint.class, "webSocket");
    private static final Field WEB_SOCKET_PROTOCOL_HANDLER = field(TyrusWebSocket.class, "protocolHandler");
    private static final Field PROTOCOL_HANDLER_WRITER = field(ProtocolHandler.class, "writer");
    private static final Field GRIZZLY_WRITER_CONNECTION = field(GrizzlyWriter.class, "connection");

    private static final String FILTER_CHAIN = "org.glassfish.grizzly.filterchain.DefaultFilterChain";
    private static final Field FILTERS_STATE = field(FILTER_CHAIN + "$FiltersState", "state");
    private static final Field ELEMENT_VALID = field(FILTER_CHAIN + "$FilterStateElement", "isValid");
    private static final Field ELEMENT_STATE = field(FILTER_CHAIN + "$FilterStateElement", "state");

    private TyrusInternals() {
    }

    /** The fields this Tyrus and Grizzly do not have as expected; empty on Tyrus 2.2.2 with Grizzly 4.0.2. */
    static List<String> unresolved() {
        List<String> missing = new ArrayList<>();
        String[] names = {"TyrusRemoteEndpoint.webSocket", "TyrusWebSocket.protocolHandler", "ProtocolHandler.writer",
                "GrizzlyWriter.connection", "FiltersState.state", "FilterStateElement.isValid",
                "FilterStateElement.state"};
        Field[] fields = {REMOTE_WEB_SOCKET, WEB_SOCKET_PROTOCOL_HANDLER, PROTOCOL_HANDLER_WRITER,
                GRIZZLY_WRITER_CONNECTION, FILTERS_STATE, ELEMENT_VALID, ELEMENT_STATE};
        for (int i = 0; i < fields.length; i++) {
            if (fields[i] == null) {
                missing.add(names[i]);
            }
        }
        return missing;
    }

    /**
     * The detachable connection of a Tyrus client session, or null if it has none.
     *
     * @throws UnsupportedOperationException if this Tyrus cannot be read (another version, or closed modules)
     */
    static TyrusConnection connectionOf(Session session) {
        if (!(session.getBasicRemote() instanceof TyrusRemoteEndpoint)) {
            return null;
        }
        Object webSocket = read(REMOTE_WEB_SOCKET, session.getBasicRemote(), "detach Tyrus client sessions");
        Object protocolHandler = read(WEB_SOCKET_PROTOCOL_HANDLER, webSocket, "detach Tyrus client sessions");
        return TyrusConnection.ofWriter(read(PROTOCOL_HANDLER_WRITER, protocolHandler, "detach Tyrus client sessions"));
    }

    /**
     * The Grizzly connection a Tyrus client writes to, or null if the writer is not Tyrus' Grizzly one or
     * cannot be read: the connection then goes on as plain Tyrus, and detaching its session is unsupported.
     */
    static Connection<?> transportOf(Writer writer) {
        return writer instanceof GrizzlyWriter && GRIZZLY_WRITER_CONNECTION != null
                ? (Connection<?>) read(GRIZZLY_WRITER_CONNECTION, writer, "detach Tyrus client sessions") : null;
    }

    /**
     * Checks, before a {@code wss} detach starts, that its hand-over will be able to take the TLS session out
     * of Grizzly.
     *
     * @throws UnsupportedOperationException if this Grizzly's filter chain is not the one expected
     */
    static void checkTlsHandOver() {
        if (FILTERS_STATE == null || ELEMENT_VALID == null || ELEMENT_STATE == null) {
            throw unsupported("detach wss sessions");
        }
    }

    /**
     * Takes out of Grizzly's SSL filter the network bytes it read but did not decrypt, for a read event that
     * has just been suspended for good: nothing reads them there any more.
     *
     * @return the bytes, in read mode; empty if there are none
     */
    static ByteBuffer takeUndecrypted(FilterChainContext event) {
        checkTlsHandOver();
        int ssl = event.getFilterChain().indexOfType(SSLBaseFilter.class);
        Object filtersState = event.getConnection().obtainProcessorState(event.getFilterChain(), () -> null);
        if (ssl < 0 || filtersState == null) {
            return ByteBuffer.allocate(0);
        }
        Object[][] elements = (Object[][]) read(FILTERS_STATE, filtersState, "detach wss sessions");
        Object element = elements[FilterChainContext.Operation.READ.ordinal()][ssl];
        if (element == null || !(Boolean) read(ELEMENT_VALID, element, "detach wss sessions")) {
            return ByteBuffer.allocate(0);
        }
        Buffer kept = (Buffer) read(ELEMENT_STATE, element, "detach wss sessions");
        write(ELEMENT_VALID, element, false);
        write(ELEMENT_STATE, element, null);
        // Possibly a composite of several reads' tails: copied out whole.
        byte[] bytes = new byte[kept.remaining()];
        kept.get(bytes);
        kept.tryDispose();
        return ByteBuffer.wrap(bytes);
    }

    /** The field, or null if it cannot be reached: then {@link #read} says why, when it is needed. */
    static Field field(Class<?> type, String name) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.getLogger(TyrusInternals.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot reach " + type.getName() + "." + name, e);
            return null;
        }
    }

    private static Field field(String typeName, String name) {
        try {
            return field(Class.forName(typeName, false, TyrusInternals.class.getClassLoader()), name);
        } catch (ClassNotFoundException e) {
            System.getLogger(TyrusInternals.class.getName()).log(System.Logger.Level.DEBUG, "cannot find " + typeName, e);
            return null;
        }
    }

    static Object read(Field field, Object target, String feature) {
        if (field == null) {
            throw unsupported(feature);
        }
        try {
            return field.get(target);
        } catch (IllegalAccessException | IllegalArgumentException e) {
            throw new UnsupportedOperationException("wsdetach cannot read " + field + " to " + feature, e);
        }
    }

    private static void write(Field field, Object target, Object value) {
        try {
            field.set(target, value);
        } catch (IllegalAccessException | IllegalArgumentException e) {
            throw new UnsupportedOperationException("wsdetach cannot write " + field + " to detach wss sessions", e);
        }
    }

    private static UnsupportedOperationException unsupported(String feature) {
        return new UnsupportedOperationException("wsdetach cannot " + feature + " here: Tyrus 2.2.2 on Grizzly"
                + " 4.0.2 is expected, with org.glassfish.tyrus.core and"
                + " org.glassfish.tyrus.container.grizzly.client open to it on the module path");
    }
}
