package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.wsdetach.Detach;
import org.wsdetach.quickstart.NonBlockingEcho;

import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A server-side detach as a {@link ModulePathJvm}'s main runs it against the container it started: a raw peer asks
 * {@link Endpoint} to detach, answers its close frame with its own and the bytes "hello", and reads them echoed.
 */
public final class ModulePathDetach {

    private ModulePathDetach() {
    }

    /** Detaches on the text "detach", to a {@link NonBlockingEcho}; where the adapter refuses, closes with 1011. */
    @ServerEndpoint("/detach")
    public static final class Endpoint {

        /** The message of the refusal, once there is one. */
        static final CompletableFuture<String> REFUSED = new CompletableFuture<>();

        @OnMessage
        public void onText(Session session, String text) throws IOException {
            try {
                Detach.detach(session, new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach"), new NonBlockingEcho());
            } catch (UnsupportedOperationException e) {
                REFUSED.complete(e.getMessage());
                session.close(new CloseReason(CloseCodes.UNEXPECTED_CONDITION, "refused"));
            }
        }
    }

    /**
     * Detaches {@code uri}'s session ({@code /detach} on a server serving {@link Endpoint}), over TLS if {@code tls}
     * is given, and prints {@code echoed hello, then the end of the stream}, or {@code refused } and the adapter's
     * message.
     */
    public static void run(URI uri, SSLSocketFactory tls) throws Exception {
        try (RawPeer peer = RawPeer.connect(uri, tls)) {
            peer.writeHex(Wire.text("detach"));
            String close = peer.readFrameHex();
            if (!("[" + close + "]").equals(Wire.frame(0x8, "03e8" + Wire.ascii("detach")))) {
                System.out.println("closed with " + close + ", refused " + Endpoint.REFUSED.get(10, TimeUnit.SECONDS));
                return;
            }
            peer.writeHex("[8802 03e8]" + Wire.ascii("hello"));
            String echoed = new String(peer.readExactly(5), StandardCharsets.US_ASCII);
            peer.shutdownOutput();
            peer.readToEnd(0);                          // throws if anything comes before the end of the stream
            System.out.println("echoed " + echoed + ", then the end of the stream");
        }
    }
}
