package org.wsdetach.demo;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.wsdetach.Detach;
import org.wsdetach.DetachOnPeerClose;

import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Echoes text messages; the message {@code detach} detaches the session, and so does a close frame from
 * the client. Either way the connection then echoes raw bytes ({@link RawEcho}).
 */
@ServerEndpoint("/echo")
@DetachOnPeerClose(RawEcho.class)
public class EchoEndpoint {

    private static final System.Logger LOG = System.getLogger(EchoEndpoint.class.getName());
    private static final CloseReason DETACH = new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach");

    @OnMessage
    public void onText(Session session, String text) throws IOException {
        if (text.equals("detach")) {
            // Safe on this container thread: detach only queues our close frame and waits for the
            // client's close frame asynchronously; RawEcho gets the connection once that has arrived.
            Detach.detach(session, DETACH, new RawEcho()).exceptionally(failure -> {
                LOG.log(Level.INFO, "detach failed", failure);
                return null;
            });
        } else {
            session.getBasicRemote().sendText(text);
        }
    }
}
