package org.wsdetach.quickstart;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.wsdetach.Detach;
import org.wsdetach.DetachOnPeerClose;

import java.io.IOException;

// README: endpoint
@ServerEndpoint("/echo")
@DetachOnPeerClose(BlockingEcho.class)   // the client's close frame detaches: a BlockingEcho gets the connection
public class EchoEndpoint {

    @OnMessage
    public void onText(Session session, String text) throws IOException {
        if (text.equals("detach")) {
            // Never blocks: our close frame is queued, and a NonBlockingEcho gets the connection once the
            // client's close frame has come back (within Detach.DEFAULT_TIMEOUT, 30 s).
            Detach.detach(session, new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach"), new NonBlockingEcho());
        } else {
            session.getBasicRemote().sendText(text);
        }
    }
}
// README: end
