package org.wsdetach.example.spring;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.Session;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.standard.StandardWebSocketSession;
import org.springframework.web.socket.handler.TextWebSocketHandler;
import org.wsdetach.Detach;

import java.io.IOException;

/**
 * The same echo as {@link EchoEndpoint}, as a Spring {@code WebSocketHandler}: Spring runs it on the Jakarta
 * session of the container, which is what {@link Detach} detaches.
 */
public class SpringEchoHandler extends TextWebSocketHandler {

    private static final System.Logger LOG = System.getLogger(SpringEchoHandler.class.getName());

    @Override
    public void afterConnectionEstablished(WebSocketSession session) {
        // What @DetachOnPeerClose declares on an annotated endpoint: a close frame from the client detaches.
        Detach.detachOnPeerClose(jakartaSession(session), new RawEchoHandler());
    }

    @Override
    protected void handleTextMessage(WebSocketSession session, TextMessage message) throws IOException {
        if (message.getPayload().equals("detach")) {
            Detach.detach(jakartaSession(session), new CloseReason(CloseCodes.NORMAL_CLOSURE, "detached"),
                    new RawEchoHandler()).exceptionally(failure -> {
                        LOG.log(System.Logger.Level.WARNING, "detach of session " + session.getId() + " failed",
                                failure);
                        return null;
                    });
        } else {
            session.sendMessage(message);
        }
    }

    private static Session jakartaSession(WebSocketSession session) {
        return ((StandardWebSocketSession) session).getNativeSession(Session.class);
    }
}
