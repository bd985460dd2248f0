package org.wsdetach.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.core.DetachedConnectionTesting.NativeConnection;
import org.wsdetach.core.DetachedConnectionTesting.PendingWrite;
import org.wsdetach.core.DetachedConnectionTesting.Recorder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ReadPendingException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritePendingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.core.DetachedConnectionTesting.PEER_REASON;
import static org.wsdetach.core.DetachedConnectionTesting.SO_TIMEOUT_MILLIS;
import static org.wsdetach.core.DetachedConnectionTesting.WAIT_SECONDS;
import static org.wsdetach.core.DetachedConnectionTesting.ascii;
import static org.wsdetach.core.DetachedConnectionTesting.await;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopRound;
import static org.wsdetach.core.DetachedConnectionTesting.awaitQuietly;
import static org.wsdetach.core.DetachedConnectionTesting.background;
import static org.wsdetach.core.DetachedConnectionTesting.closeAll;
import static org.wsdetach.core.DetachedConnectionTesting.closeFromTwoThreadsAtOnceThenAgain;
import static org.wsdetach.core.DetachedConnectionTesting.echoWhileSending;
import static org.wsdetach.core.DetachedConnectionTesting.holdLoop;
import static org.wsdetach.core.DetachedConnectionTesting.pattern;
import static org.wsdetach.core.DetachedConnectionTesting.readExactly;
import static org.wsdetach.core.DetachedConnectionTesting.writeFully;
import static org.wsdetach.core.DetachedConnectionTesting.writeUntilPending;

class NioDetachedConnectionTest {

    private static final AtomicInteger LOOP_NUMBER = new AtomicInteger();

    private final NativeConnection nativeConnection = new NativeConnection("native");
    private final AtomicInteger closeCallbacks = new AtomicInteger();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private String loopName;
    private IoLoop loop;
    private ServerSocketChannel server;

    @BeforeEach
    void setUp() throws IOException {
        loopName = "detached-io-test-" + LOOP_NUMBER.incrementAndGet();
        loop = new IoLoop(loopName);
        resources.push(loop);
        server = ServerSocketChannel.open();
        resources.push(server);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void tearDown() throws Exception {
        closeAll(resources);
    }

    // ---------------------------------------------------------------------------------------- ordering

    @Test
    void readsInitialBytesFirstThenBytesFromTheSocket() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.wrap(ascii("hello ")));
        peer.getOutputStream().write(ascii("world"));

        // A buffer smaller than the initial bytes also exercises a partial copy from them.
        byte[] received = readExactly(connection, 11, ByteBuffer.allocate(4));

        assertThat(new String(received, StandardCharsets.US_ASCII)).isEqualTo("hello world");
    }

    @Test
    void echoesSixteenMebibytesByteForByte() throws Exception {
        byte[] data = new byte[16 << 20];
        new Random(42).nextBytes(data);
        Socket peer = connectPeer();
        NioDetachedConnection connection = wrap(acceptChannelStillInAContainerSelector(), ByteBuffer.allocate(0));

        byte[] echoed = echoWhileSending(connection, peer.getInputStream(), () -> {
            OutputStream out = peer.getOutputStream();
            for (int offset = 0; offset < data.length; offset += 1 << 20) {
                out.write(data, offset, 1 << 20);
            }
            peer.shutdownOutput();
            return null;
        });

        assertThat(echoed.length).isEqualTo(data.length);
        assertThat(Arrays.equals(echoed, data)).as("echoed bytes equal the sent bytes").isTrue();
    }

    @Test
    void blockingStreamsWorkOverTheConnection() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.wrap(ascii("pi")));
        byte[] bulk = new byte[1 << 20];
        new Random(7).nextBytes(bulk);

        CompletableFuture<String> streams = background(() -> {
            InputStream in = Channels.newInputStream(connection);
            OutputStream out = Channels.newOutputStream(connection);
            String greeting = new String(in.readNBytes(4), StandardCharsets.US_ASCII);
            out.write(ascii("pong"));
            out.write(in.readNBytes(bulk.length));
            return greeting;
        });
        peer.getOutputStream().write(ascii("ng"));
        peer.getOutputStream().write(bulk);

        assertThat(new String(peer.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
                .isEqualTo("pong");
        assertThat(peer.getInputStream().readNBytes(bulk.length)).isEqualTo(bulk);
        assertThat(await(streams)).isEqualTo("ping");
    }

    // ---------------------------------------------------------------------------------------- EOF

    @Test
    void readReturnsMinusOneAtEofAndWritingGoesOnUntilShutdownOutput() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.wrap(ascii("x")));
        peer.shutdownOutput();

        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(1);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);

        writeFully(connection, ByteBuffer.wrap(ascii("still here")));
        assertThat(peer.getInputStream().readNBytes(10)).isEqualTo(ascii("still here"));

        assertThat(connection.shutdownOutput()).isSameAs(connection);
        assertThat(peer.getInputStream().read()).isEqualTo(-1);
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void anExchangeThatEndsInAShutdownAndACloseLogsNoWarning() throws Exception {
        try (CoreWarnings warnings = new CoreWarnings()) {
            Socket peer = connectPeer();
            NioDetachedConnection connection = accept(ByteBuffer.wrap(ascii("x")));
            assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(1);
            // Waits for the peer, through the loop.
            Future<Integer> read = connection.read(ByteBuffer.allocate(8));
            peer.getOutputStream().write(ascii("y"));
            assertThat(await(read)).isEqualTo(1);
            // A write that waits for room, then is served by the loop, which drops its write interest later.
            PendingWrite pending = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
            CompletableFuture<Long> drained = background(() -> drain(peer.getInputStream()));
            long written = pending.writtenBefore() + await(pending.future());
            awaitLoopRound(loop);
            awaitLoopRound(loop);
            connection.shutdownOutput();
            assertThat(await(drained)).isEqualTo(written);
            connection.close();
            awaitLoopRound(loop);

            assertThat(warnings.records()).isEmpty();
        }
    }

    @Test
    void aWriteWhoseAttemptACloseOvertakesFailsOnceWithTheClosesFailureAndLogsNoWarning() throws Exception {
        Socket peer = connectPeer();
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch writeMayReturn = new CountDownLatch(1);
        // The attempt's write to the channel is held, once it has written, until the connection is closed.
        SocketChannel held = new ForwardingSocketChannel(acceptChannel()) {
            @Override
            public int write(ByteBuffer src) throws IOException {
                int n = channel.write(src);
                writing.countDown();
                awaitQuietly(writeMayReturn);
                return n;
            }
        };
        held.configureBlocking(false);
        NioDetachedConnection connection = wrap(held, ByteBuffer.allocate(0));
        try (CoreWarnings warnings = new CoreWarnings()) {
            Recorder write = new Recorder();
            Thread writer = new Thread(() -> connection.write(ByteBuffer.wrap(ascii("data")), null, write),
                    "nio-test-writer");
            writer.start();
            assertThat(writing.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

            connection.close();
            writeMayReturn.countDown();
            writer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertThat(await(write.failure)).isExactlyInstanceOf(AsynchronousCloseException.class);
            awaitLoopRound(loop);

            assertThat(write.result).isNotDone();
            assertThat(warnings.records()).isEmpty();
        }
        assertThat(peer.getInputStream().readNBytes(4)).isEqualTo(ascii("data"));
    }

    @Test
    void shutdownOutputWithAWritePendingWaitsForTheWholeBuffer() throws Exception {
        Socket peer = connectPeer();
        // A small send buffer makes the pending write take many attempts, none of which may end it early.
        NioDetachedConnection connection = wrap(acceptChannelWithASmallSendBuffer(), ByteBuffer.allocate(0));
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        PendingWrite pending = writeUntilPending(connection, chunk);

        connection.shutdownOutput();
        CompletableFuture<Long> drained = background(() -> drain(peer.getInputStream()));

        // The pending write reports every byte of its buffer, written before the shutdown.
        assertThat(await(pending.future()) + pending.writtenBefore()).isEqualTo(pending.sent());
        assertThat(chunk.hasRemaining()).isFalse();
        assertThat(await(drained)).isEqualTo(pending.sent());
    }

    @Test
    void aWriteCompletesWithTheBytesTheSocketTookAtOnce() throws Exception {
        connectPeer();
        NioDetachedConnection connection = wrap(acceptChannelWithASmallSendBuffer(), ByteBuffer.allocate(0));
        // Far more than the socket's buffers hold, with a peer that does not read.
        ByteBuffer big = ByteBuffer.allocate(8 << 20);

        int written = await(connection.write(big));

        assertThat(written).isPositive().isLessThan(big.capacity());
        assertThat(big.position()).isEqualTo(written);
    }

    @Test
    void aWriteOfNothingCompletesAtOnceWithZero() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        Recorder write = new Recorder();

        connection.write(ByteBuffer.allocate(0), "att", write);

        assertThat(write.result.getNow(null)).isEqualTo(0);
        assertThat(write.attachment).isEqualTo("att");
    }

    @Test
    void aWriteToAResetConnectionFails() throws Exception {
        NioDetachedConnection connection = resetUnderAPendingRead();

        Recorder write = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("too late")), null, write);

        assertThat(await(write.failure)).isInstanceOf(IOException.class);
    }

    @Test
    void closeFailsThePendingWriteOnTheLoopThread() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        PendingWrite pending = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));

        connection.close();

        assertThatThrownBy(() -> await(pending.future())).cause().isInstanceOf(AsynchronousCloseException.class);
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void aReadFindsBytesAlreadyInTheSocketAtOnceWhenThereAreNoInitialBytes() throws Exception {
        Socket peer = connectPeer();
        SocketChannel channel = acceptChannel();
        NioDetachedConnection connection = wrap(channel, ByteBuffer.allocate(0));
        peer.getOutputStream().write(9);
        awaitReadable(channel);
        Recorder read = new Recorder();

        connection.read(ByteBuffer.allocate(8), null, read);

        assertThat(read.result.getNow(null)).isEqualTo(1);
        assertThat(read.thread).as("completed on").isEqualTo(Thread.currentThread().getName());
    }

    @Test
    void aChannelClosedBeforeTheLoopRegistersItClosesTheConnection() throws Exception {
        connectPeer();
        SocketChannel channel = acceptChannel();
        channel.close();
        NioDetachedConnection connection = wrap(channel, ByteBuffer.allocate(0));
        awaitLoopRound(loop);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void aChannelClosedBehindTheConnectionBeforeTheLoopRegistersItClosesTheConnection() throws Exception {
        connectPeer();
        SocketChannel channel = acceptChannel();
        NioDetachedConnection connection = wrap(channel, ByteBuffer.allocate(0));
        CountDownLatch release = holdLoop(loop);
        Recorder read = new Recorder();
        // Waits, so asks the loop to register the channel, which the loop does only once released.
        connection.read(ByteBuffer.allocate(16), null, read);
        channel.close();
        release.countDown();

        assertThat(await(read.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(connection.isOpen()).isFalse();
        // onClose runs on the loop thread after the failed read's handler.
        awaitLoopRound(loop);
        assertThat(closeCallbacks).hasValue(1);
    }

    // ---------------------------------------------------------------------------------------- misuse

    @Test
    void aSecondReadOrWriteWhileOnePendsIsRefused() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));

        Future<Integer> read = connection.read(ByteBuffer.allocate(16));
        assertThat(read.isDone()).isFalse();
        assertThatThrownBy(() -> connection.read(ByteBuffer.allocate(16)))
                .isInstanceOf(ReadPendingException.class);
        assertThatThrownBy(() -> connection.read(ByteBuffer.allocate(16), null, new Recorder()))
                .isInstanceOf(ReadPendingException.class);

        PendingWrite write = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
        assertThatThrownBy(() -> connection.write(ByteBuffer.allocate(16)))
                .isInstanceOf(WritePendingException.class);

        peer.getOutputStream().write(7);
        assertThat(await(read)).isEqualTo(1);
        CompletableFuture<Long> drained = background(() -> drain(peer.getInputStream()));
        assertThat(await(write.future())).isPositive();
        connection.close();
        assertThat(await(drained)).isGreaterThanOrEqualTo(write.writtenBefore());
    }

    @Test
    void rejectsAChannelInBlockingMode() throws Exception {
        connectPeer();
        SocketChannel channel = acceptChannel();
        channel.configureBlocking(true);

        assertThatThrownBy(() -> wrap(channel, ByteBuffer.allocate(0)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsReadOnlyBuffersAndNullArguments() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        Recorder recorder = new Recorder();

        assertThatThrownBy(() -> connection.read(ByteBuffer.allocate(4).asReadOnlyBuffer()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> connection.read(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> connection.read(ByteBuffer.allocate(4), null, null))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> connection.write(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> connection.write(ByteBuffer.allocate(4), null, null))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> connection.unwrap(null)).isInstanceOf(NullPointerException.class);

        // None of them left an operation pending.
        connection.read(ByteBuffer.allocate(0), "att", recorder);
        assertThat(recorder.result.getNow(null)).isEqualTo(0);
        assertThat(recorder.attachment).isEqualTo("att");
    }

    // ---------------------------------------------------------------------------------------- close

    @Test
    void closeFailsThePendingReadRunsOnCloseOnceAndThePeerSeesEof() throws Exception {
        Socket peer = connectPeer();
        SocketChannel channel = acceptChannelStillInAContainerSelector();
        NioDetachedConnection connection = wrap(channel, ByteBuffer.allocate(0));
        Recorder pendingRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, pendingRead);

        closeFromTwoThreadsAtOnceThenAgain(connection);

        assertThat(await(pendingRead.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(pendingRead.thread).isEqualTo(loopName);
        assertThat(closeCallbacks).hasValue(1);
        assertThat(connection.isOpen()).isFalse();
        assertThat(channel.isOpen()).isFalse();
        assertThat(peer.getInputStream().read()).isEqualTo(-1);

        Recorder lateRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, lateRead);
        assertThat(await(lateRead.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(lateRead.thread).isEqualTo(Thread.currentThread().getName());
        Recorder lateWrite = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("late")), null, lateWrite);
        assertThat(await(lateWrite.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(connection::shutdownOutput).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(connection::getLocalAddress).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(connection::getRemoteAddress).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void closeOnTheLoopThreadFailsThePendingReadBeforeItReturns() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, read);
        CompletableFuture<Boolean> failedBeforeCloseReturned = new CompletableFuture<>();

        assertThat(loop.execute(() -> {
            connection.closeQuietly();
            failedBeforeCloseReturned.complete(read.failure.isDone());
        })).isTrue();

        assertThat(await(failedBeforeCloseReturned)).isTrue();
        assertThat(await(read.failure)).isInstanceOf(AsynchronousCloseException.class);
    }

    @Test
    void aWriteAfterCloseFailsWithClosedChannelExceptionEvenIfOneWasPending() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
        connection.close();
        Recorder late = new Recorder();

        connection.write(ByteBuffer.wrap(ascii("late")), null, late);

        assertThat(late.failure.getNow(null)).isExactlyInstanceOf(ClosedChannelException.class);
    }

    @Test
    void aWriteOfNothingToAClosedConnectionFailsWithClosedChannelException() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        connection.close();
        Recorder write = new Recorder();

        connection.write(ByteBuffer.allocate(0), null, write);

        assertThat(write.failure.getNow(null)).isExactlyInstanceOf(ClosedChannelException.class);
    }

    @Test
    void initialBytesAreNotReadAfterClose() throws Exception {
        connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.wrap(ascii("unread")));
        connection.close();
        ByteBuffer received = ByteBuffer.allocate(16);
        Recorder read = new Recorder();

        connection.read(received, null, read);

        assertThat(read.failure.getNow(null)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(received.position()).isZero();
    }

    @Test
    void aClosedConnectionIsNotKeptByItsLoop() throws Exception {
        connectPeer();
        WeakReference<NioDetachedConnection> closed = closedConnection(acceptChannel());

        for (int gc = 0; gc < 10 && closed.get() != null; gc++) {
            System.gc();
        }

        assertThat(closed.get()).as("closed connection still reachable").isNull();
    }

    @Test
    void readsRacingWithCloseEndExactlyOnce() throws Exception {
        int rounds = 200;
        for (int round = 0; round < rounds; round++) {
            Socket peer = connectPeer();
            NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
            if (round % 2 == 0) {
                // Half of the reads find a byte at once, half wait for the selector.
                peer.getOutputStream().write(round);
            }
            AtomicInteger outcomes = new AtomicInteger();
            CountDownLatch ended = new CountDownLatch(1);
            CompletionHandler<Integer, Void> handler = new CompletionHandler<>() {
                @Override
                public void completed(Integer n, Void unused) {
                    outcomes.incrementAndGet();
                    ended.countDown();
                }

                @Override
                public void failed(Throwable failure, Void unused) {
                    outcomes.incrementAndGet();
                    ended.countDown();
                }
            };
            CountDownLatch start = new CountDownLatch(1);
            CompletableFuture<Void> reader = background(() -> {
                start.await();
                connection.read(ByteBuffer.allocate(4), null, handler);
                return null;
            });
            CompletableFuture<Void> closer = background(() -> {
                start.await();
                connection.close();
                return null;
            });
            start.countDown();
            await(reader);
            await(closer);

            assertThat(ended.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
            // Anything still queued for the loop has run by now.
            awaitLoopRound(loop);
            awaitLoopRound(loop);
            assertThat(outcomes).as("outcomes in round %d", round).hasValue(1);
            peer.close();
        }
        assertThat(closeCallbacks).hasValue(rounds);
    }

    @Test
    void closeFromWithinAHandlerOnTheLoopThread() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        CompletableFuture<Boolean> closedInHandler = new CompletableFuture<>();
        connection.read(ByteBuffer.allocate(8), null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer n, Void unused) {
                try {
                    connection.close();
                    closedInHandler.complete(loop.inLoop());
                } catch (IOException e) {
                    closedInHandler.completeExceptionally(e);
                }
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                closedInHandler.completeExceptionally(failure);
            }
        });
        peer.getOutputStream().write(1);

        assertThat(await(closedInHandler)).as("completed on the loop thread").isTrue();
        assertThat(closeCallbacks).hasValue(1);
        assertThat(peer.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void connectionResetFailsTheReadButLeavesTheConnectionOpen() throws Exception {
        NioDetachedConnection connection = resetUnderAPendingRead();

        assertThat(connection.isOpen()).isTrue();
        assertThat(closeCallbacks).hasValue(0);
        connection.close();
        assertThat(closeCallbacks).hasValue(1);
    }

    // ---------------------------------------------------------------------------------------- threads

    @Test
    void handlerThatRereadsFromCompletedDoesNotOverflowTheStack() throws Exception {
        int size = 1 << 20;
        byte[] data = new byte[size];
        new Random(3).nextBytes(data);
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        byte[] received = new byte[size];
        int[] maxStackDepth = new int[1];
        CompletableFuture<Void> done = new CompletableFuture<>();
        ByteBuffer one = ByteBuffer.allocate(1);
        connection.read(one, 0, new CompletionHandler<Integer, Integer>() {
            @Override
            public void completed(Integer n, Integer count) {
                if (n < 0) {
                    done.completeExceptionally(new IOException("EOF after " + count + " bytes"));
                    return;
                }
                received[count] = one.get(0);
                one.clear();
                if ((count & 0xfff) == 0) {
                    maxStackDepth[0] = Math.max(maxStackDepth[0], new Throwable().getStackTrace().length);
                }
                if (count + 1 == size) {
                    done.complete(null);
                    return;
                }
                try {
                    connection.read(one, count + 1, this);
                } catch (StackOverflowError e) {
                    done.completeExceptionally(e);
                }
            }

            @Override
            public void failed(Throwable failure, Integer count) {
                done.completeExceptionally(failure);
            }
        });
        peer.getOutputStream().write(data);

        await(done);
        assertThat(received).isEqualTo(data);
        assertThat(maxStackDepth[0]).isLessThan(1_000);
    }

    @Test
    void handlerExceptionsAreContained() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        CountDownLatch thrown = new CountDownLatch(1);
        connection.read(ByteBuffer.allocate(8), null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer n, Void unused) {
                thrown.countDown();
                throw new IllegalStateException("thrown on purpose by a test handler");
            }

            @Override
            public void failed(Throwable failure, Void unused) {
            }
        });
        peer.getOutputStream().write(1);
        assertThat(thrown.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        // Both the loop and the connection survive: the next read waits for the selector again.
        Future<Integer> next = connection.read(ByteBuffer.allocate(8));
        peer.getOutputStream().write(2);
        assertThat(await(next)).isEqualTo(1);
    }

    @Test
    void bytesStayInTheKernelWhileNoReadIsPending() throws Exception {
        SocketChannel peer = SocketChannel.open(server.getLocalAddress());
        resources.push(peer);
        peer.configureBlocking(false);
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));

        // A first read through the selector leaves the loop with read interest it no longer needs.
        Future<Integer> first = connection.read(ByteBuffer.allocate(1));
        peer.write(ByteBuffer.wrap(new byte[] {pattern(0)}));
        assertThat(await(first)).isEqualTo(1);

        long limit = 64L << 20;
        long sent = 1 + writeUntilFull(peer, 1, limit);
        assertThat(sent).as("bytes the peer could send before the buffers were full").isLessThan(limit);
        // Give the loop several rounds to (wrongly) drain the socket, then check the peer is still stuck.
        for (int round = 0; round < 3; round++) {
            awaitLoopRound(loop);
        }
        long late = writeUntilFull(peer, sent, limit);
        sent += late;
        assertThat(late).as("bytes accepted after the loop ran without a read").isLessThan(1 << 20);

        byte[] rest = readExactly(connection, (int) (sent - 1), ByteBuffer.allocateDirect(256 << 10));
        for (int i = 0; i < rest.length; i++) {
            if (rest[i] != pattern(i + 1)) {
                throw new AssertionError("byte " + (i + 1) + " out of order");
            }
        }
    }

    // ---------------------------------------------------------------------------------------- views

    @Test
    void exposesPeerCloseReasonAddressesAndNativeObjects() throws Exception {
        Socket peer = connectPeer();
        SocketChannel channel = acceptChannel();
        NioDetachedConnection connection = wrap(channel, ByteBuffer.allocate(0));

        assertThat(connection.peerCloseReason()).isSameAs(PEER_REASON);
        assertThat(connection.unwrap(SocketChannel.class)).containsSame(channel);
        assertThat(connection.unwrap(NetworkChannel.class)).containsSame(channel);
        assertThat(connection.unwrap(NativeConnection.class)).containsSame(nativeConnection);
        assertThat(connection.unwrap(Thread.class)).isEmpty();
        assertThat(connection.getLocalAddress()).isEqualTo(peer.getRemoteSocketAddress());
        assertThat(connection.getRemoteAddress()).isEqualTo(peer.getLocalSocketAddress());
        assertThat(connection.isOpen()).isTrue();
    }

    // ---------------------------------------------------------------------------------------- loop

    @Test
    void closingTheLoopClosesItsConnectionsAndEndsItsThread() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        Recorder pendingRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, pendingRead);
        Thread loopThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(loopName))
                .findFirst()
                .orElseThrow();
        assertThat(loopThread.isDaemon()).isTrue();

        loop.close();
        loop.close();

        assertThat(await(pendingRead.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(pendingRead.thread).isEqualTo(loopName);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
        assertThat(peer.getInputStream().read()).isEqualTo(-1);
        loopThread.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(loopThread.isAlive()).isFalse();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals(loopName));

        assertThat(loop.execute(() -> { })).isFalse();
        connectPeer();
        NioDetachedConnection late = accept(ByteBuffer.allocate(0));
        assertThat(late.isOpen()).isFalse();
        Recorder lateRead = new Recorder();
        late.read(ByteBuffer.allocate(16), null, lateRead);
        assertThat(await(lateRead.failure)).isInstanceOf(ClosedChannelException.class);
    }

    // ---------------------------------------------------------------------------------------- helpers

    /** Writes the pattern from {@code firstIndex} on until a non-blocking write takes nothing. */
    private static long writeUntilFull(SocketChannel peer, long firstIndex, long limit) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
        long sent = 0;
        while (sent < limit) {
            fillWithPattern(chunk, firstIndex + sent);
            int n = peer.write(chunk);
            if (n == 0) {
                break;
            }
            sent += n;
        }
        return sent;
    }

    private Socket connectPeer() throws IOException {
        Socket peer = new Socket();
        resources.push(peer);
        peer.connect(server.getLocalAddress(), SO_TIMEOUT_MILLIS);
        peer.setSoTimeout(SO_TIMEOUT_MILLIS);
        return peer;
    }

    private SocketChannel acceptChannel() throws IOException {
        SocketChannel channel = server.accept();
        resources.push(channel);
        channel.configureBlocking(false);
        return channel;
    }

    /** Accepts a channel that the container's selector keeps registered with no interest. */
    private SocketChannel acceptChannelStillInAContainerSelector() throws IOException {
        SocketChannel channel = acceptChannel();
        Selector containerSelector = Selector.open();
        resources.push(containerSelector);
        channel.register(containerSelector, 0);
        return channel;
    }

    private SocketChannel acceptChannelWithASmallSendBuffer() throws IOException {
        SocketChannel channel = acceptChannel();
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 64 << 10);
        return channel;
    }

    /** Waits until bytes can be read from {@code channel} without waiting, seen through a selector of the test's. */
    private void awaitReadable(SocketChannel channel) throws IOException {
        Selector probe = Selector.open();
        resources.push(probe);
        channel.register(probe, SelectionKey.OP_READ);
        assertThat(probe.select(TimeUnit.SECONDS.toMillis(WAIT_SECONDS))).as("channels readable").isEqualTo(1);
    }

    /** A connection over {@code channel}, closed, that nothing of the test keeps. */
    /** A connection whose peer reset it while a read was pending: the read has failed, so the reset has arrived. */
    private NioDetachedConnection resetUnderAPendingRead() throws Exception {
        Socket peer = connectPeer();
        NioDetachedConnection connection = accept(ByteBuffer.allocate(0));
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, read);
        peer.setSoLinger(true, 0);
        peer.close();
        assertThat(await(read.failure)).isInstanceOf(IOException.class);
        return connection;
    }

    private WeakReference<NioDetachedConnection> closedConnection(SocketChannel channel) throws IOException {
        NioDetachedConnection connection = new NioDetachedConnection(loop, channel, ByteBuffer.allocate(0),
                PEER_REASON, nativeConnection, closeCallbacks::incrementAndGet);
        connection.close();
        return new WeakReference<>(connection);
    }

    private NioDetachedConnection accept(ByteBuffer initialBytes) throws IOException {
        return wrap(acceptChannel(), initialBytes);
    }

    private NioDetachedConnection wrap(SocketChannel channel, ByteBuffer initialBytes) {
        NioDetachedConnection connection = new NioDetachedConnection(loop, channel, initialBytes,
                PEER_REASON, nativeConnection, closeCallbacks::incrementAndGet);
        resources.push(connection);
        return connection;
    }

    private static long drain(InputStream in) throws IOException {
        byte[] sink = new byte[64 << 10];
        long total = 0;
        for (int n = in.read(sink); n >= 0; n = in.read(sink)) {
            total += n;
        }
        return total;
    }

    private static void fillWithPattern(ByteBuffer chunk, long firstIndex) {
        chunk.clear();
        for (int i = 0; i < chunk.capacity(); i++) {
            chunk.put(pattern(firstIndex + i));
        }
        chunk.flip();
    }
}
