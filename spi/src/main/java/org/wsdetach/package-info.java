/**
 * Detaching Jakarta WebSocket sessions: what an application uses.
 *
 * <p>{@link org.wsdetach.Detach} ends a session with the RFC 6455 close handshake and then, instead of closing
 * the TCP (or TLS) connection, hands it to a {@link org.wsdetach.DetachHandler} as a
 * {@link org.wsdetach.DetachedConnection}: an {@link java.nio.channels.AsynchronousByteChannel} whose first
 * byte is the first byte the peer sent after its close frame. A detach starts here
 * ({@link org.wsdetach.Detach#detach Detach.detach}: we send the first close frame) or at the peer
 * ({@link org.wsdetach.Detach#detachOnPeerClose Detach.detachOnPeerClose}, or
 * {@link org.wsdetach.DetachOnPeerClose @DetachOnPeerClose} on the endpoint: the peer's close frame detaches).
 *
 * <p>The work is done by the adapter of the session's container (wsdetach-tyrus, wsdetach-tomcat or
 * wsdetach-jetty), found at run time; this package depends on the JDK and the Jakarta WebSocket API only.
 */
package org.wsdetach;
