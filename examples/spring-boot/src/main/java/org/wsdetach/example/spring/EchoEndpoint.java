package org.wsdetach.example.spring;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.wsdetach.Detach;
import org.wsdetach.DetachOnPeerClose;

import java.io.IOException;

/**
 * A plain annotated Jakarta endpoint, registered by the application's {@code ServerEndpointExporter}; Tomcat
 * creates one instance per session. It echoes text; the text {@code detach} detaches the session, and so does a
 * close frame from the client ({@link DetachOnPeerClose}).
 */
@ServerEndpoint("/echo")
@DetachOnPeerClose(RawEchoHandler.class)
public class EchoEndpoint {

    private static final System.Logger LOG = System.getLogger(EchoEndpoint.class.getName());

    @OnMessage
    public void onText(Session session, String text) throws IOException {
        if (text.equals("detach")) {
            // Never blocks: queues our close frame; the handler gets the connection when the client's arrives.
            Detach.detach(session, new CloseReason(CloseCodes.NORMAL_CLOSURE, "detached"), new RawEchoHandler())
                    .exceptionally(failure -> {
                        LOG.log(System.Logger.Level.WARNING, "detach of session " + session.getId() + " failed",
                                failure);
                        return null;
                    });
        } else {
            session.getBasicRemote().sendText(text);
        }
    }
}
