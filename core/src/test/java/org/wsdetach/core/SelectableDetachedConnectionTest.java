package org.wsdetach.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.DetachedConnection;
import org.wsdetach.core.DetachedConnectionTesting.LoopbackPair;
import org.wsdetach.core.DetachedConnectionTesting.NativeConnection;
import org.wsdetach.core.DetachedConnectionTesting.Recorder;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.core.DetachedConnectionTesting.PEER_REASON;
import static org.wsdetach.core.DetachedConnectionTesting.WAIT_SECONDS;
import static org.wsdetach.core.DetachedConnectionTesting.await;
import static org.wsdetach.core.DetachedConnectionTesting.awaitCondition;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopRound;
import static org.wsdetach.core.DetachedConnectionTesting.background;
import static org.wsdetach.core.DetachedConnectionTesting.closeAll;

/**
 * What {@link SelectableDetachedConnection} does with the hooks a subclass overrides ({@link
 * SelectableDetachedConnection#isFatal}, {@link SelectableDetachedConnection#refusesWritesLocked}, {@link
 * SelectableDetachedConnection#unwrapLayer}), through a subclass whose reads a test scripts, over a real
 * loopback channel.
 */
class SelectableDetachedConnectionTest {

    private final NativeConnection nativeConnection = new NativeConnection("native");
    private final AtomicInteger closeCallbacks = new AtomicInteger();
    private final CompletableFuture<Void> onCloseRan = new CompletableFuture<>();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private IoLoop loop;
    private Socket peer;
    private SocketChannel channel;

    @BeforeEach
    void setUp() throws IOException {
        loop = new IoLoop("selectable-connection-test");
        resources.push(loop);
        LoopbackPair pair = LoopbackPair.open(resources);
        peer = pair.peer();
        channel = pair.channel();
    }

    @AfterEach
    void tearDown() throws Exception {
        closeAll(resources);
    }

    /** What the subclass's read attempt does with the buffer it is given. */
    @FunctionalInterface
    private interface Transfer {
        int into(ByteBuffer dst) throws IOException;
    }

    /** How the scripted connection behaves; by default its reads find nothing and wait. */
    private static final class Script {
        Transfer transfer = dst -> 0;
        Object layer;
        boolean failuresFatal;
        boolean refusesWrites;
        boolean joinsLoop = true;
    }

    /** Stands for a subclass's own layer, such as the TLS engine. */
    private record Layer(String name) {
    }

    /** Reads as scripted; a write waits for the loop once, which then takes its whole buffer. */
    private static final class ScriptedConnection extends SelectableDetachedConnection {
        final AtomicInteger writeAttempts = new AtomicInteger();
        private final Script script;

        ScriptedConnection(IoLoop loop, SocketChannel channel, Object nativeConnection, Runnable onClose,
                           Script script) {
            super(loop, channel, PEER_REASON, nativeConnection, onClose);
            this.script = script;
            if (script.joinsLoop) {
                joinLoop();
            }
        }

        @Override
        int transferIn(ByteBuffer dst) throws IOException {
            return script.transfer.into(dst);
        }

        @Override
        Runnable writeStartedLocked() {
            writeAttempts.incrementAndGet();
            writeWaiting = true;
            int outcome = updateInterestLocked();
            return () -> afterInterestUpdate(outcome);
        }

        @Override
        Runnable writableLocked() {
            CompletionHandler<Integer, Object> handler = writeHandler;
            Object attachment = writeAttachment;
            int n = writeBuffer.remaining();
            writeBuffer.position(writeBuffer.limit());
            clearWrite();
            return () -> complete(handler, attachment, n, null);
        }

        @Override
        void writeClearedLocked() {
        }

        @Override
        boolean refusesWritesLocked() {
            return script.refusesWrites;
        }

        @Override
        boolean isFatal(IOException failure) {
            return script.failuresFatal;
        }

        @Override
        Object unwrapLayer() {
            return script.layer;
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return Optional.empty();
        }

        @Override
        public DetachedConnection shutdownOutput() {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void unwrapOffersTheSubclassLayer() {
        Layer layer = new Layer("engine");
        Script script = new Script();
        script.layer = layer;
        ScriptedConnection connection = connect(script);

        assertThat(connection.unwrap(Layer.class)).containsSame(layer);
    }

    @Test
    void aFatalReadFailureClosesTheConnectionBeforeTheHandlerRuns() {
        IOException broken = new IOException("broken on purpose by the test");
        Script script = new Script();
        script.transfer = dst -> {
            throw broken;
        };
        script.failuresFatal = true;
        ScriptedConnection connection = connect(script);
        CompletableFuture<Boolean> openWhenFailed = new CompletableFuture<>();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();

        connection.read(ByteBuffer.allocate(8), null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer n, Void unused) {
                openWhenFailed.completeExceptionally(new AssertionError("read completed with " + n));
            }

            @Override
            public void failed(Throwable t, Void unused) {
                openWhenFailed.complete(connection.isOpen());
                failure.complete(t);
            }
        });

        assertThat(openWhenFailed.getNow(null)).as("open when the handler ran").isFalse();
        assertThat(failure.getNow(null)).isSameAs(broken);
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void aSuccessfulReadLeavesOpenAConnectionWhoseFailuresAreAllFatal() throws Exception {
        Script script = new Script();
        script.transfer = dst -> {
            dst.put((byte) 7);
            return 1;
        };
        script.failuresFatal = true;
        ScriptedConnection connection = connect(script);

        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(1);
        assertThat(connection.isOpen()).isTrue();
        assertThat(closeCallbacks).hasValue(0);
    }

    @Test
    void writesTheSubclassRefusesFailWithClosedChannelExceptionUntried() {
        Script script = new Script();
        script.refusesWrites = true;
        ScriptedConnection connection = connect(script);
        Recorder write = new Recorder();
        Recorder emptyWrite = new Recorder();

        connection.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), null, write);
        connection.write(ByteBuffer.allocate(0), null, emptyWrite);

        assertThat(write.failure.getNow(null)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(emptyWrite.failure.getNow(null)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(connection.writeAttempts).hasValue(0);
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void aReadThatMustWaitOnALoopTakingNoTasksClosesTheConnectionAndFailsOnTheCallingThread() {
        loop.close();
        // A connection its loop does not know of, as one attached while the loop closes can be for a moment:
        // the loop's close misses it, and its first wait finds a loop that takes no tasks.
        Script script = new Script();
        script.joinsLoop = false;
        ScriptedConnection connection = connect(script);
        Recorder read = new Recorder();

        connection.read(ByteBuffer.allocate(8), null, read);

        assertThat(read.failure.getNow(null)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(read.thread).isEqualTo(Thread.currentThread().getName());
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void theLoopLeavesAloneAReadThatItsStarterIsStillAttempting() throws Exception {
        CountDownLatch inAttempt = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean holdNextAttemptOffTheLoop = new AtomicBoolean();
        AtomicInteger attemptsInFlight = new AtomicInteger();
        AtomicBoolean overlapped = new AtomicBoolean();
        Script script = new Script();
        script.transfer = dst -> {
            if (attemptsInFlight.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            try {
                if (!loop.inLoop() && holdNextAttemptOffTheLoop.compareAndSet(true, false)) {
                    inAttempt.countDown();
                    release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                }
                return channel.read(dst);
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            } finally {
                attemptsInFlight.decrementAndGet();
            }
        };
        ScriptedConnection connection = connect(script);
        // A first read served by the loop leaves the read interest behind.
        Future<Integer> first = connection.read(ByteBuffer.allocate(8));
        peer.getOutputStream().write(1);
        assertThat(await(first)).isEqualTo(1);
        SelectionKey key = channel.keyFor(loop.selector());
        holdNextAttemptOffTheLoop.set(true);
        CompletableFuture<Integer> second = background(() -> await(connection.read(ByteBuffer.allocate(8))));
        assertThat(inAttempt.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        // Readable while the starter's attempt goes on: the loop must only drop the interest.
        peer.getOutputStream().write(2);
        assertThat(awaitCondition(() -> key.interestOps() == 0 || overlapped.get())).as("readiness served").isTrue();
        release.countDown();

        assertThat(overlapped).as("attempts overlapped").isFalse();
        assertThat(await(second)).isEqualTo(1);
    }

    @Test
    void aRoundThatFindsOnlyRoomToWriteLeavesTheWaitingReadUntried() throws Exception {
        AtomicInteger readAttempts = new AtomicInteger();
        Script script = new Script();
        script.transfer = dst -> {
            readAttempts.incrementAndGet();
            return 0;
        };
        ScriptedConnection connection = connect(script);
        connection.read(ByteBuffer.allocate(8), null, new Recorder());

        // Served by the loop in a round that finds the channel writable and, as the peer sends nothing, no more.
        assertThat(await(connection.write(ByteBuffer.wrap(new byte[] {1})))).isEqualTo(1);

        assertThat(readAttempts).hasValue(1);
    }

    @Test
    void aRoundThatFindsOnlyBytesToReadLeavesTheWaitingWriteUntried() throws Exception {
        Script script = new Script();
        script.transfer = channel::read;
        ScriptedConnection connection = connect(script);
        // With the peer reading nothing, the channel is left with no room for the write that waits.
        ByteBuffer filler = ByteBuffer.allocate(64 << 10);
        do {
            filler.clear();
        } while (channel.write(filler) > 0);
        Future<Integer> read = connection.read(ByteBuffer.allocate(8));
        Future<Integer> write = connection.write(ByteBuffer.wrap(new byte[] {1}));

        peer.getOutputStream().write(1);
        assertThat(await(read)).isEqualTo(1);
        // The round that served the read has ended.
        awaitLoopRound(loop);

        assertThat(write.isDone()).as("write done").isFalse();
    }

    @Test
    void aChannelClosedBehindTheConnectionInALoopRoundClosesTheConnectionAtTheNextInterestUpdate()
            throws Exception {
        Script script = new Script();
        script.transfer = channel::read;
        ScriptedConnection connection = connect(script);
        Selector probe = Selector.open();
        resources.push(probe);
        channel.register(probe, SelectionKey.OP_READ);
        CompletableFuture<Void> failures = new CompletableFuture<>();
        connection.read(ByteBuffer.allocate(8), null, onCompleted(() -> {
            // The write half of this same round follows, with the write interest its write left behind.
            connection.unwrap(SocketChannel.class).orElseThrow().close();
        }, failures));
        // Served by the loop in a round without the read; the byte it sends makes the next round serve both.
        CompletionHandler<Integer, Void> sendAByte = onCompleted(() -> {
            peer.getOutputStream().write(1);
            assertThat(probe.select(TimeUnit.SECONDS.toMillis(WAIT_SECONDS))).as("channels readable").isEqualTo(1);
        }, failures);

        connection.write(ByteBuffer.wrap(new byte[] {1}), null, sendAByte);

        assertThat(CompletableFuture.anyOf(onCloseRan, failures).get(WAIT_SECONDS, TimeUnit.SECONDS)).isNull();
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void aReadReadinessFoundWithNoReadWaitingAfterTheChannelClosedBehindTheConnectionClosesIt() throws Exception {
        Script script = new Script();
        script.transfer = channel::read;
        ScriptedConnection connection = connect(script);
        // A read that waits registers the channel; the loop completes it once the byte arrives.
        Future<Integer> read = connection.read(ByteBuffer.allocate(8));
        peer.getOutputStream().write(1);
        assertThat(await(read)).isEqualTo(1);
        CompletableFuture<Void> dispatched = new CompletableFuture<>();

        // The dispatcher's call for a key found valid, in a round in which the channel is closed (through
        // unwrap, on another thread) right after that check: its interest can no longer be updated.
        assertThat(loop.execute(() -> {
            try {
                connection.unwrap(SocketChannel.class).orElseThrow().close();
                connection.onReady(SelectionKey.OP_READ);
                dispatched.complete(null);
            } catch (IOException | RuntimeException e) {
                dispatched.completeExceptionally(e);
            }
        })).as("task taken").isTrue();

        dispatched.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void closeThrowsTheChannelsCloseFailureAfterRunningOnClose() throws IOException {
        // No real socket fails to close: a channel that does stands in for one.
        SocketChannel failing = new FailingToCloseChannel();
        failing.configureBlocking(false);
        ScriptedConnection connection = new ScriptedConnection(loop, failing, nativeConnection,
                this::onClose, new Script());

        assertThatThrownBy(connection::close).isSameAs(FailingToCloseChannel.FAILURE);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    private ScriptedConnection connect(Script script) {
        ScriptedConnection connection = new ScriptedConnection(loop, channel, nativeConnection,
                this::onClose, script);
        resources.push(connection);
        return connection;
    }

    private void onClose() {
        closeCallbacks.incrementAndGet();
        onCloseRan.complete(null);
    }

    /** A handler that runs {@code action} once completed, and otherwise fails {@code failures}. */
    private static CompletionHandler<Integer, Void> onCompleted(IoAction action, CompletableFuture<?> failures) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                try {
                    action.run();
                } catch (Exception | AssertionError e) {
                    failures.completeExceptionally(e);
                }
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                failures.completeExceptionally(failure);
            }
        };
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws Exception;
    }

    /** A channel whose close fails; it supports nothing else. */
    private static final class FailingToCloseChannel extends SocketChannel {
        static final IOException FAILURE = new IOException("close failed on purpose by the test");

        FailingToCloseChannel() {
            super(SelectorProvider.provider());
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw FAILURE;
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
        }

        @Override
        public SocketChannel bind(SocketAddress local) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> SocketChannel setOption(SocketOption<T> name, T value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> T getOption(SocketOption<T> name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SocketChannel shutdownInput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SocketChannel shutdownOutput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Socket socket() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public boolean isConnectionPending() {
            return false;
        }

        @Override
        public boolean connect(SocketAddress remote) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean finishConnect() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SocketAddress getRemoteAddress() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(ByteBuffer dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int write(ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public SocketAddress getLocalAddress() {
            throw new UnsupportedOperationException();
        }
    }
}
