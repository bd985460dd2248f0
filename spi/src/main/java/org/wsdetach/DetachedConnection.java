package org.wsdetach;

import jakarta.websocket.CloseReason;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.AsynchronousByteChannel;
import java.util.Optional;

/**
 * The connection of a detached WebSocket session: the same TCP connection, with the WebSocket protocol
 * finished on it, owned by a {@link DetachHandler}.
 *
 * <p><b>Bytes.</b> The first byte {@linkplain #read read} is the first byte the peer sent after its close
 * frame, whether it arrived in the same TCP segment as that frame or later; nothing is lost, reordered or
 * parsed as WebSocket. Bytes {@linkplain #write written} go out after every message the session sent
 * before detaching and after the local close frame. A read of {@code -1} means the peer shut down its
 * output (or closed); writing may go on until {@link #shutdownOutput()} or {@link #close()}.
 *
 * <p><b>TLS.</b> A detached {@code wss} connection stays inside its TLS session ({@link #sslSession()}):
 * reads and writes carry plaintext, encrypted on the wire; {@link #shutdownOutput()} sends TLS
 * {@code close_notify} before the TCP half-close and goes on reading, and the peer's {@code close_notify}
 * reads as the end of the stream, with or without a TCP FIN behind it. Under TLS 1.3 writing goes on after
 * it, as over TCP; TLS 1.2 has no half-close, so there the peer's {@code close_notify} is answered with ours
 * and later writes fail with {@link java.nio.channels.ClosedChannelException}. {@link #close()} is abortive:
 * no {@code close_notify}.
 *
 * <p><b>Back-pressure.</b> The provider reads from the network only to satisfy a pending read: a handler
 * that does not read stops the flow of bytes from the peer (TCP flow control) instead of making the
 * provider buffer without bound.
 *
 * <p><b>Threads.</b> The {@link AsynchronousByteChannel} rules apply: at most one read and one write
 * outstanding at a time. Completion handlers run on the thread that started the operation when it
 * completes at once, otherwise on a provider I/O thread; they must not block. A handler may start the
 * next operation from {@code completed}: the provider bounds how deeply completions nest on one stack.
 * The {@code Future}
 * variants and {@link java.nio.channels.Channels#newInputStream}/{@link
 * java.nio.channels.Channels#newOutputStream} give blocking I/O to threads that may block.
 *
 * <p><b>Ownership.</b> The connection belongs to its handler from {@link DetachHandler#onDetached} on:
 * the container no longer reads, writes, times out or closes it, except when the server itself stops,
 * which closes it as {@link #close()} does. Closing it closes the TCP connection; pending operations then
 * fail with {@link java.nio.channels.AsynchronousCloseException}.
 */
public interface DetachedConnection extends AsynchronousByteChannel {

    /**
     * The close status and reason the peer sent in its close frame (libdill's {@code ws_status}).
     *
     * @return the peer's close reason; {@link CloseReason.CloseCodes#NO_STATUS_CODE} with an empty reason
     *         when the peer's close frame carried no status
     */
    CloseReason peerCloseReason();

    /**
     * Shuts down the output side of the connection (TCP half-close) once any pending write has
     * completed; the connection stays open for reading.
     *
     * @return this connection
     * @throws java.nio.channels.ClosedChannelException if the connection is closed
     * @throws IOException                              if the shutdown fails
     */
    DetachedConnection shutdownOutput() throws IOException;

    /**
     * The local address of the connection.
     *
     * @return the local socket address
     * @throws IOException if the connection is closed or the address cannot be read
     */
    SocketAddress getLocalAddress() throws IOException;

    /**
     * The peer's address.
     *
     * @return the remote socket address
     * @throws IOException if the connection is closed or the address cannot be read
     */
    SocketAddress getRemoteAddress() throws IOException;

    /**
     * The TLS session the connection goes on in: a detached {@code wss} connection stays inside the TLS
     * session its WebSocket ran in, so everything read and written here is plaintext that travels
     * encrypted.
     *
     * @return the TLS session, or empty if the connection is not secure (plain {@code ws})
     */
    Optional<SSLSession> sslSession();

    /**
     * Gives access to the provider's native view of this connection, for what this interface does not
     * cover (socket options, for instance). Using the native object to read, write or close bypasses this
     * connection's guarantees. The types each container's adapter offers:
     *
     * <table class="striped">
     * <caption>unwrap types per container</caption>
     * <thead><tr><th>container (adapter)</th><th>{@code ws}</th><th>{@code wss}, in addition</th></tr></thead>
     * <tbody>
     * <tr><td>Tyrus on Grizzly ({@code wsdetach-tyrus}), server and client</td>
     *     <td>{@link java.nio.channels.SocketChannel}; Grizzly's {@code org.glassfish.grizzly.Connection}</td>
     *     <td>{@link javax.net.ssl.SSLEngine}</td></tr>
     * <tr><td>Tomcat 10.1 and 11, NIO connector ({@code wsdetach-tomcat})</td>
     *     <td>{@link java.nio.channels.SocketChannel}; no object of Tomcat's</td>
     *     <td>{@link javax.net.ssl.SSLEngine}</td></tr>
     * <tr><td>Jetty 12.1, ee10 and ee11 ({@code wsdetach-jetty})</td>
     *     <td>{@link java.nio.channels.SocketChannel}; Jetty's {@code org.eclipse.jetty.io.EndPoint}, now idle</td>
     *     <td>{@link javax.net.ssl.SSLEngine}; the {@code EndPoint} is then Jetty's TLS end point</td></tr>
     * </tbody>
     * </table>
     *
     * <p>A supertype of one of these works too (for example {@code java.nio.channels.NetworkChannel}); the
     * container's object is looked for first, then the {@code SSLEngine}, then the channel. The
     * {@code SSLEngine} is the one the detached connection drives: use it to read, not to change, its state.
     *
     * @param type the class of the wanted object, for example {@code java.nio.channels.SocketChannel}
     *             or the container's own connection type
     * @param <T>  the wanted type
     * @return the native object, or empty if the provider has none of that type
     */
    <T> Optional<T> unwrap(Class<T> type);
}
