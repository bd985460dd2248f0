package org.wsdetach.benchmarks.suite;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.wsdetach.Detach;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The suite's endpoint, the same class on every container with and without the adapter: text and binary
 * messages are echoed; a few texts are commands. {@code detach-sink}, {@code detach-echo} and
 * {@code detach-scale} detach the session to {@link RawHandlers.Sink}, {@link RawHandlers.Echo} (64 KiB buffer)
 * or {@link RawHandlers.Echo} (1 KiB buffer); {@code ping-latency} sends a ping and records the time until its
 * pong in {@link Latencies#pings}; {@code detach-latency} records the time from the detach call until the
 * handler holds the connection in {@link Latencies#detaches}, then closes the connection.
 */
@ServerEndpoint("/bench")
public class BenchEndpoint {

    private static final CloseReason DETACH = new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach");
    private static final ByteBuffer NO_PAYLOAD = ByteBuffer.allocate(0);

    private static final int MESSAGE_BUFFER = 128 * 1024;

    private long pingSent;

    @OnOpen
    public void onOpen(Session session) {
        // Tomcat buffers 8 KiB of a binary message by default and closes on more: the bulk messages are 64 KiB.
        session.setMaxBinaryMessageBufferSize(MESSAGE_BUFFER);
    }

    @OnMessage
    public void onText(Session session, String text) throws IOException {
        switch (text) {
            case "detach-sink" -> detach(session, new RawHandlers.Sink(RawHandlers.BULK_BUFFER));
            case "detach-echo" -> detach(session, new RawHandlers.Echo(RawHandlers.BULK_BUFFER));
            case "detach-scale" -> detach(session, new RawHandlers.Echo(RawHandlers.SCALE_BUFFER));
            case "ping-latency" -> {
                pingSent = System.nanoTime();
                session.getBasicRemote().sendPing(NO_PAYLOAD.duplicate());
            }
            case "detach-latency" -> {
                long called = System.nanoTime();
                Detach.detach(session, DETACH, connection -> {
                    Latencies.detaches.add(System.nanoTime() - called);
                    RawHandlers.closeQuietly(connection);
                });
            }
            default -> session.getBasicRemote().sendText(text);
        }
    }

    @OnMessage
    public void onBinary(Session session, ByteBuffer bytes) throws IOException {
        session.getBasicRemote().sendBinary(bytes);
    }

    @OnMessage
    public void onPong(PongMessage pong) {
        Latencies.pings.add(System.nanoTime() - pingSent);
    }

    @OnError
    public void onError(Throwable failure) {
        // The suite's clients close their connections without a close frame; every container reports it.
    }

    private static void detach(Session session, org.wsdetach.DetachHandler handler) {
        Detach.detach(session, DETACH, handler);
    }
}
