package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.core.DetachedConnectionTesting.LoopbackPair;
import org.wsdetach.core.DetachedConnectionTesting.PendingWrite;
import org.wsdetach.core.DetachedConnectionTesting.Recorder;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.core.DetachedConnectionTesting.await;
import static org.wsdetach.core.DetachedConnectionTesting.awaitCondition;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopAsleepInSelect;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopRound;
import static org.wsdetach.core.DetachedConnectionTesting.background;
import static org.wsdetach.core.DetachedConnectionTesting.loopThread;
import static org.wsdetach.core.DetachedConnectionTesting.writeUntilPending;

/**
 * A detached connection joins its I/O loop's selector only once an operation waits for the channel: the
 * hand-over, and reads and writes that need not wait, leave the loop thread asleep.
 */
class LoopRegistrationTest {

    private static final CloseReason PEER_REASON = new CloseReason(CloseCodes.NORMAL_CLOSURE, "");

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private IoLoop loop;
    private SocketChannel channel;
    private Socket peer;
    private NioDetachedConnection connection;

    @BeforeEach
    void setUp() throws IOException {
        loop = new IoLoop("loop-registration-test");
        resources.push(loop);
        LoopbackPair pair = LoopbackPair.open(resources);
        peer = pair.peer();
        channel = pair.channel();
        connection = new NioDetachedConnection(loop, channel, ByteBuffer.wrap(new byte[]{1, 2}), PEER_REASON,
                null, () -> { });
        resources.push(connection);
    }

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }

    @Test
    void operationsThatNeedNotWaitLeaveTheChannelOutOfTheLoop() throws Exception {
        ByteBuffer received = ByteBuffer.allocate(16);
        assertThat(connection.read(received).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(connection.write(ByteBuffer.wrap(new byte[]{3})).get(10, TimeUnit.SECONDS)).isEqualTo(1);
        awaitLoopRound(loop);

        assertThat(channel.keyFor(loop.selector())).isNull();
        assertThat(peer.getInputStream().read()).isEqualTo(3);
    }

    @Test
    void aReadThatWaitsRegistersTheChannelAndCompletesWhenBytesCome() throws Exception {
        connection.read(ByteBuffer.allocate(16)).get(10, TimeUnit.SECONDS);
        Future<Integer> waiting = connection.read(ByteBuffer.allocate(16));
        awaitLoopRound(loop);

        assertThat(channel.keyFor(loop.selector())).isNotNull();
        assertThat(waiting.isDone()).isFalse();
        peer.getOutputStream().write(new byte[]{4, 5, 6});
        assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(3);
    }

    @Test
    void theLoopDropsReadInterestThatNoReadWaitsFor() throws Exception {
        SelectionKey key = registerThroughAWaitingRead();

        peer.getOutputStream().write(7);

        assertThat(awaitCondition(() -> key.interestOps() == 0)).as("read interest dropped").isTrue();
    }

    @Test
    void theLoopDropsWriteInterestOnceNoWriteWaits() throws Exception {
        PendingWrite pending = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
        background(() -> peer.getInputStream().transferTo(OutputStream.nullOutputStream()));
        await(pending.future());
        SelectionKey key = channel.keyFor(loop.selector());

        assertThat(awaitCondition(() -> key.interestOps() == 0)).as("write interest dropped").isTrue();
    }

    @Test
    void aReadThatWaitsAfterTheLoopDroppedReadInterestWakesTheSleepingLoop() throws Exception {
        SelectionKey key = registerThroughAWaitingRead();
        peer.getOutputStream().write(7);
        assertThat(awaitCondition(() -> key.interestOps() == 0)).as("read interest dropped").isTrue();
        assertThat(await(connection.read(ByteBuffer.allocate(16)))).isEqualTo(1);
        assertThat(awaitLoopAsleepInSelect(loopThread(loop))).as("loop asleep").isTrue();

        Future<Integer> waiting = connection.read(ByteBuffer.allocate(16));
        peer.getOutputStream().write(8);

        assertThat(await(waiting)).isEqualTo(1);
    }

    @Test
    void aReadThatFindsTheKeyCancelledBehindItsBackClosesTheConnection() throws Exception {
        SelectionKey key = registerThroughAWaitingRead();
        key.cancel();
        // Once the loop's next select has dropped the cancelled key, the channel could be registered anew.
        assertThat(awaitLoopAsleepInSelect(loopThread(loop))).as("loop asleep").isTrue();
        Recorder read = new Recorder();

        connection.read(ByteBuffer.allocate(16), null, read);

        assertThat(await(read.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void closingARegisteredConnectionFromAnotherThreadHasTheSleepingLoopDropItsKeyAtOnce() throws Exception {
        registerThroughAWaitingRead();
        assertThat(awaitLoopAsleepInSelect(loopThread(loop))).as("loop asleep").isTrue();

        connection.close();

        // The channel's socket is released only once the loop's selector has dropped the key.
        assertThat(awaitCondition(() -> channel.keyFor(loop.selector()) == null)).as("key dropped").isTrue();
    }

    /** Has a read wait for the loop, so that the loop registers the channel, and returns the key. */
    private SelectionKey registerThroughAWaitingRead() throws Exception {
        assertThat(await(connection.read(ByteBuffer.allocate(16)))).as("initial bytes").isEqualTo(2);
        Future<Integer> waiting = connection.read(ByteBuffer.allocate(16));
        peer.getOutputStream().write(6);
        assertThat(await(waiting)).isEqualTo(1);
        return channel.keyFor(loop.selector());
    }
}
