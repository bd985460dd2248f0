package org.wsdetach.tomcat;

import jakarta.websocket.Extension;
import org.apache.tomcat.websocket.MessagePart;
import org.apache.tomcat.websocket.Transformation;
import org.apache.tomcat.websocket.TransformationResult;
import org.wsdetach.core.ContainerWrite;
import org.wsdetach.spi.WebSocketProtocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The head of a connection's transformation chain, which every frame Tomcat reads or writes passes: Tomcat
 * tells it the start of every frame it parses ({@link #validateRsv}) and shows it every frame it queues
 * ({@link #sendMessagePart}). That is all the frame tracking a detach needs on Tomcat, and costs one call per
 * frame. It is no extension: Tomcat puts only the transformations of negotiated extensions in the handshake.
 */
final class FrameGate implements Transformation {

    private final TomcatConnection connection;
    private Transformation next;

    FrameGate(TomcatConnection connection, Transformation negotiated) {
        this.connection = connection;
        this.next = negotiated;
    }

    @Override
    public void setNext(Transformation t) {
        if (next == null) {
            next = t;
        } else {
            next.setNext(t);
        }
    }

    @Override
    public boolean validateRsv(int rsv, byte opCode) {
        if (!connection.tomcatReadsFrame()) {
            throw TakeOver.INSTANCE;
        }
        return next.validateRsv(rsv, opCode);
    }

    @Override
    public boolean validateRsvBits(int i) {
        return next.validateRsvBits(i);
    }

    @Override
    public Extension getExtensionResponse() {
        return next == null ? null : next.getExtensionResponse();
    }

    @Override
    public TransformationResult getMoreData(byte opCode, boolean fin, int rsv, ByteBuffer dest) throws IOException {
        return next.getMoreData(opCode, fin, rsv, dest);
    }

    @Override
    public List<MessagePart> sendMessagePart(List<MessagePart> messageParts) throws IOException {
        for (MessagePart part : messageParts) {
            if (connection.isOurs(part.getPayload()) || part.getOpCode() > WebSocketProtocol.B0_MASK_OPCODE) {
                // Our close frame, or Tomcat's internal flush of frames it let through before.
                continue;
            }
            ContainerWrite verdict = connection.tomcatQueues(part.getOpCode() == WebSocketProtocol.OPCODE_CLOSE);
            if (verdict == ContainerWrite.SWALLOWED) {
                // Tomcat takes an empty list for a frame written.
                return List.of();
            }
            if (verdict == ContainerWrite.REFUSED) {
                throw new IOException("the session has been detached");
            }
        }
        return next.sendMessagePart(messageParts);
    }

    @Override
    public void close() {
        if (next != null) {
            next.close();
        }
    }

    /**
     * Thrown where Tomcat's parser asks about a frame the detach core takes: out of the parser, to the
     * {@link DetachingUpgradeHandler}, before Tomcat has read anything of the frame but its first byte.
     */
    static final class TakeOver extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final TakeOver INSTANCE = new TakeOver();

        private TakeOver() {
            super("the detach core takes the stream", null, false, false);
        }
    }
}
