package org.wsdetach.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wsdetach.core.DetachedConnectionTesting.NativeConnection;
import org.wsdetach.core.DetachedConnectionTesting.PendingWrite;
import org.wsdetach.core.DetachedConnectionTesting.Recorder;
import org.wsdetach.core.TestTls.TappedSocket;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
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
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Random;
import java.util.function.Function;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.core.DetachedConnectionTesting.PEER_REASON;
import static org.wsdetach.core.DetachedConnectionTesting.SO_TIMEOUT_MILLIS;
import static org.wsdetach.core.DetachedConnectionTesting.ascii;
import static org.wsdetach.core.DetachedConnectionTesting.await;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopRound;
import static org.wsdetach.core.DetachedConnectionTesting.awaitQuietly;
import static org.wsdetach.core.DetachedConnectionTesting.background;
import static org.wsdetach.core.DetachedConnectionTesting.closeAll;
import static org.wsdetach.core.DetachedConnectionTesting.closeFromTwoThreadsAtOnceThenAgain;
import static org.wsdetach.core.DetachedConnectionTesting.echoWhileSending;
import static org.wsdetach.core.DetachedConnectionTesting.pattern;
import static org.wsdetach.core.DetachedConnectionTesting.readExactly;
import static org.wsdetach.core.DetachedConnectionTesting.writeFully;
import static org.wsdetach.core.DetachedConnectionTesting.writeUntilPending;

class TlsDetachedConnectionTest {

    private static final String TLS13 = "TLSv1.3";
    private static final String TLS12 = "TLSv1.2";
    private static final AtomicInteger LOOP_NUMBER = new AtomicInteger();
    /** A TCP buffer size each way, fixed, for tests that make the channel stall. */
    private static final int SMALL_BUFFER = 64 << 10;
    /** Filler bytes that go out ahead of a record, to make the channel stall on that record. */
    private static final int PADDING = 1 << 20;

    @TempDir
    static Path keyDirectory;
    private static SSLContext tls;

    /**
     * The peer: a JDK {@code SSLSocket} layered over its TCP socket, so that {@code ssl.shutdownOutput()}
     * sends {@code close_notify} alone and {@code tcp.shutdownOutput()} a bare FIN.
     */
    private record Peer(SSLSocket ssl, TappedSocket tcp) {
        InputStream in() throws IOException {
            return ssl.getInputStream();
        }

        OutputStream out() throws IOException {
            return ssl.getOutputStream();
        }

        /** Reads to the end of the TLS stream: how many bytes, and whether it ended with close_notify. */
        Drained drain() throws IOException {
            byte[] sink = new byte[64 << 10];
            long total = 0;
            for (int n = in().read(sink); n >= 0; n = in().read(sink)) {
                total += n;
            }
            return new Drained(total, !tcp.endOfStreamSeen());
        }
    }

    private record Drained(long bytes, boolean closeNotify) {
    }

    private final NativeConnection nativeConnection = new NativeConnection("native");
    private final AtomicInteger closeCallbacks = new AtomicInteger();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private String loopName;
    private IoLoop loop;
    private ServerSocketChannel server;

    @BeforeAll
    static void makeKey() throws Exception {
        tls = TestTls.selfSigned(keyDirectory);
    }

    @BeforeEach
    void setUp() throws IOException {
        loopName = "tls-detached-io-test-" + LOOP_NUMBER.incrementAndGet();
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
    void readsHandedOverPlaintextThenHandedOverCiphertextThenTheSocketInOrder() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine engine = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, engine);
        for (String record : new String[] {"alpha-", "beta-", "gamma-"}) {
            peer.out().write(ascii(record));
        }
        // The container decrypted the first record and consumed "XX" of its buffer, read the second
        // record and the start of the third, and left the rest of the third in the kernel.
        ByteBuffer plaintext = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        plaintext.put(ascii("XX"));
        engine.unwrap(TestTls.readRecord(channel), plaintext);
        plaintext.flip().position(2);
        ByteBuffer ciphertext = ByteBuffer.allocate(64 << 10);
        ciphertext.put(TestTls.readRecord(channel)).put(TestTls.readExactly(channel, 3)).flip();
        channel.configureBlocking(false);
        TlsDetachedConnection connection = wrap(channel, engine, plaintext, ciphertext);
        // The caller may reuse its buffers at once.
        Arrays.fill(plaintext.array(), (byte) '?');
        Arrays.fill(ciphertext.array(), (byte) 0);
        peer.out().write(ascii("delta"));

        // A buffer smaller than the records also exercises partial deliveries.
        byte[] received = readExactly(connection, 22, ByteBuffer.allocate(4));

        assertThat(new String(received, StandardCharsets.US_ASCII)).isEqualTo("alpha-beta-gamma-delta");
    }

    @Test
    void echoesSixteenMebibytesEachWayByteForByte() throws Exception {
        byte[] data = new byte[16 << 20];
        new Random(42).nextBytes(data);
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);

        byte[] echoed = echoWhileSending(connection, peer.in(), () -> {
            for (int offset = 0; offset < data.length; offset += 1 << 20) {
                peer.out().write(data, offset, 1 << 20);
            }
            peer.ssl().shutdownOutput();
            return null;
        });

        assertThat(echoed.length).isEqualTo(data.length);
        assertThat(Arrays.equals(echoed, data)).as("echoed bytes equal the sent bytes").isTrue();
    }

    @Test
    void peerKeyUpdateInTheMiddleOfAStreamLosesNothingEitherWay() throws Exception {
        byte[] data = new byte[8 << 20];
        new Random(11).nextBytes(data);
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);

        byte[] echoed = echoWhileSending(connection, peer.in(), () -> {
            int half = data.length / 2;
            peer.out().write(data, 0, half);
            // On an established TLS 1.3 connection the JDK sends KeyUpdate (update_requested), which
            // makes our engine update its keys and answer with a KeyUpdate of its own.
            peer.ssl().startHandshake();
            peer.out().write(data, half, data.length - half);
            peer.ssl().shutdownOutput();
            return null;
        });

        assertThat(echoed.length).isEqualTo(data.length);
        assertThat(Arrays.equals(echoed, data)).as("echoed bytes equal the sent bytes").isTrue();
    }

    @Test
    void aClientSideConnectionReadsPastTheServersNewSessionTicket() throws Exception {
        try (ServerSocket peerServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            SocketChannel channel = SocketChannel.open(peerServer.getLocalSocketAddress());
            resources.push(channel);
            Socket tcp = peerServer.accept();
            resources.push(tcp);
            tcp.setSoTimeout(SO_TIMEOUT_MILLIS);
            SSLSocket peer = (SSLSocket) tls.getSocketFactory().createSocket(tcp, "localhost", tcp.getPort(), false);
            resources.push(peer);
            peer.setUseClientMode(false);
            peer.setEnabledProtocols(new String[] {TLS13});
            SSLEngine engine = tls.createSSLEngine("localhost", peerServer.getLocalPort());
            engine.setUseClientMode(true);
            engine.setEnabledProtocols(new String[] {TLS13});
            CompletableFuture<Void> peerHandshake = background(() -> {
                peer.startHandshake();
                peer.getOutputStream().write(ascii("hello"));
                return null;
            });
            // The client's handshake ends with its Finished; the server's NewSessionTicket comes after,
            // so the connection has to unwrap it first.
            TestTls.handshake(channel, engine);
            channel.configureBlocking(false);
            TlsDetachedConnection connection = wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
            await(peerHandshake);

            assertThat(new String(readExactly(connection, 5, ByteBuffer.allocate(64)), StandardCharsets.US_ASCII))
                    .isEqualTo("hello");
        }
    }

    // ---------------------------------------------------------------------------------------- end of stream

    @Test
    void peerCloseNotifyWithoutFinReadsMinusOneWhileOurLaterWritesStillArrive() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        peer.out().write(ascii("bye"));
        peer.ssl().shutdownOutput();
        assertThat(peer.tcp().isOutputShutdown()).as("TCP output of the peer shut down").isFalse();

        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(3);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        writeFully(connection, ByteBuffer.wrap(ascii("still here")));

        assertThat(peer.in().readNBytes(10)).isEqualTo(ascii("still here"));
    }

    @Test
    void tls12PeerCloseNotifyIsAnsweredWithCloseNotifyAndEndsOurOutput() throws Exception {
        Peer peer = connectPeer(TLS12);
        TlsDetachedConnection connection = accept(peer, TLS12);
        peer.out().write(ascii("bye"));
        peer.ssl().shutdownOutput();

        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(3);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        // The JDK engine answers at once (RFC 5246 duplex close); the TCP output stays open until asked.
        assertThat(peer.drain()).isEqualTo(new Drained(0, true));
        Recorder late = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("late")), null, late);
        assertThat(await(late.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        connection.shutdownOutput();
        assertThat(peer.tcp().getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void finWithoutCloseNotifyReadsMinusOneAndWritingGoesOn() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        peer.out().write(ascii("cut"));
        peer.tcp().shutdownOutput();

        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(3);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        writeFully(connection, ByteBuffer.wrap(ascii("still here")));

        assertThat(peer.in().readNBytes(10)).isEqualTo(ascii("still here"));
    }

    @Test
    void anEndOfStreamAlreadyReceivedCompletesTheReadOnItsStarter() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine engine = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, engine);
        peer.tcp().shutdownOutput();
        channel.configureBlocking(false);
        // Nothing comes after the handshake but the FIN: it is in once the channel reads as ready.
        try (Selector arrival = Selector.open()) {
            channel.register(arrival, SelectionKey.OP_READ);
            assertThat(arrival.select(TimeUnit.SECONDS.toMillis(DetachedConnectionTesting.WAIT_SECONDS))).isEqualTo(1);
        }
        TlsDetachedConnection connection = wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        Recorder read = new Recorder();

        connection.read(ByteBuffer.allocate(8), null, read);

        assertThat(read.result).isCompletedWithValue(-1);
        assertThat(read.thread).isEqualTo(Thread.currentThread().getName());
    }

    @Test
    void finInsideARecordFailsTheReadWithEofException() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        // An application_data record header announcing 100 bytes, then 3 of them and the TCP end.
        peer.tcp().getOutputStream().write(new byte[] {23, 3, 3, 0, 100, 1, 2, 3});
        peer.tcp().shutdownOutput();

        assertThatThrownBy(() -> await(connection.read(ByteBuffer.allocate(8))))
                .hasCauseExactlyInstanceOf(EOFException.class);
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void shutdownOutputSendsCloseNotifyAndReadingGoesOn() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        writeFully(connection, ByteBuffer.wrap(ascii("last")));

        assertThat(connection.shutdownOutput()).isSameAs(connection);
        assertThat(connection.shutdownOutput()).isSameAs(connection);

        assertThat(peer.in().readNBytes(4)).isEqualTo(ascii("last"));
        assertThat(peer.drain()).isEqualTo(new Drained(0, true));
        assertThat(peer.tcp().getInputStream().read()).as("TCP end after close_notify").isEqualTo(-1);
        Recorder late = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("late")), null, late);
        assertThat(await(late.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        peer.out().write(ascii("answer"));
        peer.ssl().shutdownOutput();
        assertThat(readExactly(connection, 6, ByteBuffer.allocate(64))).isEqualTo(ascii("answer"));
        assertThat(await(connection.read(ByteBuffer.allocate(8)))).isEqualTo(-1);
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void anExchangeThatEndsInAShutdownAndACloseLogsNoWarning() throws Exception {
        try (CoreWarnings warnings = new CoreWarnings()) {
            Peer peer = connectPeer(TLS13);
            TlsDetachedConnection connection = accept(peer, TLS13);
            peer.out().write(ascii("ping"));
            assertThat(readExactly(connection, 4, ByteBuffer.allocate(64))).isEqualTo(ascii("ping"));
            // A write that waits for room, then is served by the loop, which drops its write interest later.
            PendingWrite pending = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
            CompletableFuture<Drained> drained = background(peer::drain);
            long written = pending.writtenBefore() + await(pending.future());
            awaitLoopRound(loop);
            awaitLoopRound(loop);
            connection.shutdownOutput();
            assertThat(await(drained)).isEqualTo(new Drained(written, true));
            connection.close();
            awaitLoopRound(loop);

            assertThat(warnings.records()).isEmpty();
        }
    }

    @Test
    void aWritePendingAtShutdownOutputIsDeliveredWholeBeforeCloseNotify() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        PendingWrite pending = writeUntilPending(connection, chunk);

        connection.shutdownOutput();
        CompletableFuture<Drained> drained = background(peer::drain);

        // The pending write reports every byte of its buffer, all written before close_notify.
        assertThat(await(pending.future())).isEqualTo(chunk.capacity());
        assertThat(chunk.hasRemaining()).isFalse();
        assertThat(await(drained)).isEqualTo(new Drained(pending.sent(), true));
    }

    @Test
    void aWritePendingAtShutdownOutputCompletesOnlyOnceACloseNotifyThatWaitedForRoomAndTheTcpEndAreOut()
            throws Exception {
        Peer peer = connectPeer(TLS13, SMALL_BUFFER);
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptWithSmallBuffers(peer, real);
        CountDownLatch wrapped = new CountDownLatch(1);
        CountDownLatch wrapMayReturn = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        // The write's one record is wrapped, and held there until the shutdown is requested and the close_notify
        // to come is padded: the channel takes the write's record, then stalls on the close_notify.
        PaddedEngine engine = new PaddedEngine(real) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                SSLEngineResult result = super.wrap(srcs, offset, length, dst);
                if (held.compareAndSet(false, true)) {
                    wrapped.countDown();
                    awaitQuietly(wrapMayReturn);
                }
                return result;
            }
        };
        TlsDetachedConnection connection = wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        CompletableFuture<Integer> written = new CompletableFuture<>();
        AtomicBoolean outputShutAtCompletion = new AtomicBoolean();
        CompletionHandler<Integer, Void> handler = new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                outputShutAtCompletion.set(channel.socket().isOutputShutdown());
                written.complete(n);
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                written.completeExceptionally(failure);
            }
        };
        Thread writer = new Thread(() -> connection.write(ByteBuffer.wrap(ascii("last")), null, handler),
                "tls-test-writer");
        writer.start();
        assertThat(wrapped.await(DetachedConnectionTesting.WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        connection.shutdownOutput();
        engine.pad(PADDING);
        wrapMayReturn.countDown();
        writer.join(TimeUnit.SECONDS.toMillis(DetachedConnectionTesting.WAIT_SECONDS));

        assertThat(writer.isAlive()).isFalse();
        assertThat(written).as("completed while its close_notify waited for room").isNotDone();
        CompletableFuture<Drained> drained = background(peer::drain);
        assertThat(await(written)).isEqualTo(4);
        assertThat(outputShutAtCompletion).as("TCP output shut down when the handler ran").isTrue();
        assertThat(await(drained)).isEqualTo(new Drained(4 + PADDING, true));
        assertThat(peer.tcp().getInputStream().read()).as("TCP end after close_notify").isEqualTo(-1);
    }

    @Test
    void aWriteStartedWhileTheCloseNotifyOfAShutdownWaitsForRoomFailsAtOnce() throws Exception {
        Peer peer = connectPeer(TLS13, SMALL_BUFFER);
        Padded padded = acceptPadded(peer);
        TlsDetachedConnection connection = padded.connection();
        padded.engine().pad(PADDING);

        connection.shutdownOutput();
        Recorder late = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("late")), null, late);

        // Not once the close_notify is out: the peer reads nothing before the write has failed.
        assertThat(await(late.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(await(background(peer::drain))).isEqualTo(new Drained(PADDING, true));
    }

    @Test
    void writesTheChannelTakesAtOnceCompleteOnTheirStarterBeforeWriteReturns() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);

        for (int i = 0; i < 3; i++) {
            Recorder write = new Recorder();
            connection.write(ByteBuffer.wrap(ascii("now" + i)), i, write);
            assertThat(write.result).as("write %d", i).isCompletedWithValue(4);
            assertThat(write.attachment).isEqualTo(i);
            assertThat(write.thread).isEqualTo(Thread.currentThread().getName());
        }

        assertThat(peer.in().readNBytes(12)).isEqualTo(ascii("now0now1now2"));
    }

    @Test
    void aReadWhoseAttemptACloseOvertakesFailsOnceWithTheClosesFailureAndLogsNoWarning() throws Exception {
        Peer peer = connectPeer(TLS13);
        CountDownLatch unwrapping = new CountDownLatch(1);
        CountDownLatch unwrapMayReturn = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        // The attempt's unwrap of the peer's data is held until the connection is closed.
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
                    throws SSLException {
                SSLEngineResult result = super.unwrap(src, dsts, offset, length);
                if (result.bytesProduced() > 0 && held.compareAndSet(false, true)) {
                    unwrapping.countDown();
                    awaitQuietly(unwrapMayReturn);
                }
                return result;
            }
        });
        peer.out().write(ascii("data"));
        try (CoreWarnings warnings = new CoreWarnings()) {
            Recorder read = new Recorder();
            Thread reader = new Thread(() -> connection.read(ByteBuffer.allocate(64), null, read), "tls-test-reader");
            reader.start();
            assertThat(unwrapping.await(DetachedConnectionTesting.WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

            connection.close();
            unwrapMayReturn.countDown();
            reader.join(TimeUnit.SECONDS.toMillis(DetachedConnectionTesting.WAIT_SECONDS));
            assertThat(await(read.failure)).isExactlyInstanceOf(AsynchronousCloseException.class);
            awaitLoopRound(loop);

            assertThat(read.result).isNotDone();
            assertThat(warnings.records()).isEmpty();
        }
    }

    @Test
    void aWriteOfManyRecordsThatTheChannelTakesWholeReportsItsWholeBuffer() throws Exception {
        Peer peer = connectPeer(TLS13);
        // Records of at most 100 bytes: a write of 1000 bytes takes 10 of them, far less than the kernel holds.
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                ByteBuffer src = srcs[offset];
                ByteBuffer part = src.duplicate().limit(Math.min(src.limit(), src.position() + 100));
                SSLEngineResult result = super.wrap(new ByteBuffer[] {part}, 0, 1, dst);
                src.position(part.position());
                return result;
            }
        });
        byte[] message = new byte[1000];
        for (int i = 0; i < message.length; i++) {
            message[i] = pattern(i);
        }

        assertThat(await(connection.write(ByteBuffer.wrap(message)))).isEqualTo(message.length);

        assertThat(peer.in().readNBytes(message.length)).isEqualTo(message);
    }

    @Test
    void aWriteTheChannelTakesOnlyInPartEndsWithTheRecordItStalledIn() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        // More than the kernel's buffers hold while the peer does not read (a few MiB on loopback), so the
        // channel stalls inside it.
        ByteBuffer chunk = ByteBuffer.allocate(8 << 20);
        PendingWrite pending = writeUntilPending(connection, chunk);
        CompletableFuture<Drained> drained = background(peer::drain);

        // It reports the bytes of the records written up to the stalled one, and leaves the rest.
        int written = await(pending.future());
        assertThat(written).isPositive().isLessThan(chunk.capacity()).isEqualTo(chunk.position());
        writeFully(connection, chunk);
        connection.shutdownOutput();

        assertThat(await(drained)).isEqualTo(new Drained(pending.sent(), true));
    }

    @Test
    void aWriteStalledBehindTheEnginesOwnRecordsBeforeTakingAnyByteGoesOnWithItsBuffer() throws Exception {
        Peer peer = connectPeer(TLS13, SMALL_BUFFER);
        Padded padded = acceptPadded(peer);
        TlsDetachedConnection connection = padded.connection();
        // Records of the engine's own go out first, before any byte of the write: the padding, then the
        // KeyUpdate that a TLS 1.3 engine sends when asked to handshake again. The channel stalls in them.
        padded.engine().pad(PADDING);
        padded.real().beginHandshake();

        Future<Integer> write = connection.write(ByteBuffer.wrap(ascii("mine")));

        assertThat(write.isDone()).as("stalled").isFalse();
        CompletableFuture<byte[]> received = background(() -> peer.in().readNBytes(PADDING + 4));
        assertThat(await(write)).isEqualTo(4);
        byte[] bytes = await(received);
        for (int i = 0; i < PADDING; i++) {
            if (bytes[i] != pattern(i)) {
                throw new AssertionError("padding byte " + i + " out of order");
            }
        }
        assertThat(Arrays.copyOfRange(bytes, PADDING, bytes.length)).isEqualTo(ascii("mine"));
    }

    @Test
    void aWriteStartedWhileAReaderSendsTheEnginesMessagesIsNotCompletedByTheReader() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, real);
        // A KeyUpdate (update_requested) then a record of data, handed over unread: the reader unwraps the
        // KeyUpdate on its own thread and sends the engine's answer from there.
        peer.ssl().startHandshake();
        peer.out().write(ascii("x"));
        ByteBuffer ciphertext = ByteBuffer.allocate(2 * real.getSession().getPacketBufferSize());
        ciphertext.put(TestTls.readRecord(channel)).put(TestTls.readRecord(channel)).flip();
        channel.configureBlocking(false);
        CountDownLatch inAnswer = new CountDownLatch(1);
        CountDownLatch answerMayGoOn = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        TlsDetachedConnection connection = wrap(channel, new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                if (held.compareAndSet(false, true)) {
                    inAnswer.countDown();
                    awaitQuietly(answerMayGoOn);
                }
                return super.wrap(srcs, offset, length, dst);
            }
        }, ByteBuffer.allocate(0), ciphertext);
        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread reader = new Thread(() -> read.complete(readOne(connection)), "tls-test-reader");
        reader.start();
        assertThat(inAnswer.await(DetachedConnectionTesting.WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        Recorder write = new Recorder();
        Thread writer = new Thread(() -> connection.write(ByteBuffer.wrap(ascii("mine")), null, write),
                "tls-test-writer");
        writer.start();
        // The write is pending once its starter waits for the output the reader holds.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DetachedConnectionTesting.WAIT_SECONDS);
        while (writer.getState() != Thread.State.BLOCKED && writer.isAlive() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(writer.getState()).isEqualTo(Thread.State.BLOCKED);
        answerMayGoOn.countDown();

        assertThat(await(read)).isEqualTo(1);
        assertThat(await(write.result)).isEqualTo(4);
        assertThat(write.thread).isIn("tls-test-writer", loopName);
        assertThat(peer.in().readNBytes(4)).isEqualTo(ascii("mine"));
    }

    @Test
    void aWriteStartedWhileTheLoopSendsTheEnginesRecordsAfterFinishingAnotherWriteLeavesBothCompleted()
            throws Exception {
        Peer peer = connectPeer(TLS13, SMALL_BUFFER);
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptWithSmallBuffers(peer, real);
        AtomicBoolean wantsWrap = new AtomicBoolean();
        CountDownLatch inEngineWrap = new CountDownLatch(1);
        CountDownLatch engineWrapMayGoOn = new CountDownLatch(1);
        // Once asked to, the engine wants to send a message of its own, and holds the wrap of it.
        PaddedEngine engine = new PaddedEngine(real) {
            @Override
            public HandshakeStatus getHandshakeStatus() {
                return wantsWrap.get() ? HandshakeStatus.NEED_WRAP : super.getHandshakeStatus();
            }

            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                if (Arrays.stream(srcs, offset, offset + length).noneMatch(ByteBuffer::hasRemaining)
                        && wantsWrap.compareAndSet(true, false)) {
                    inEngineWrap.countDown();
                    awaitQuietly(engineWrapMayGoOn);
                }
                return super.wrap(srcs, offset, length, dst);
            }
        };
        TlsDetachedConnection connection = wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        engine.pad(PADDING);
        Future<Integer> first = connection.write(ByteBuffer.wrap(ascii("first")));
        assertThat(first.isDone()).as("stalled").isFalse();
        wantsWrap.set(true);
        CompletableFuture<Drained> drained = background(peer::drain);
        // The loop thread has written the first write's records, finished it, and wraps the engine's message.
        assertThat(inEngineWrap.await(DetachedConnectionTesting.WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        Recorder second = new Recorder();
        Thread writer = new Thread(() -> connection.write(ByteBuffer.wrap(ascii("second")), null, second),
                "tls-test-writer");
        writer.start();
        // The second write is pending once its starter waits for the output the loop thread holds.
        assertThat(DetachedConnectionTesting.awaitState(writer, Thread.State.BLOCKED)).isEqualTo(Thread.State.BLOCKED);
        engineWrapMayGoOn.countDown();

        assertThat(await(first)).isEqualTo(5);
        assertThat(await(second.result)).isEqualTo(6);
        connection.shutdownOutput();
        assertThat(await(drained)).isEqualTo(new Drained(PADDING + 11, true));
    }

    // ---------------------------------------------------------------------------------------- back-pressure

    @Test
    void aHandlerThatDoesNotReadStopsThePeer() throws Exception {
        long flood = 64L << 20;
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        // A first read through the selector leaves the loop with read interest it no longer needs.
        Future<Integer> first = connection.read(ByteBuffer.allocate(1));
        peer.out().write(pattern(0));
        assertThat(await(first)).isEqualTo(1);

        AtomicLong sent = new AtomicLong(1);
        CompletableFuture<Void> flooding = background(() -> {
            byte[] chunk = new byte[64 << 10];
            while (sent.get() < flood) {
                int n = (int) Math.min(chunk.length, flood - sent.get());
                for (int i = 0; i < n; i++) {
                    chunk[i] = pattern(sent.get() + i);
                }
                peer.out().write(chunk, 0, n);
                sent.addAndGet(n);
            }
            return null;
        });
        // The peer gets stuck once the kernel's buffers are full; the loop runs on without reading.
        assertThatThrownBy(() -> flooding.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
        for (int round = 0; round < 3; round++) {
            awaitLoopRound(loop);
        }
        assertThat(sent.get()).as("bytes the peer could send while nothing read").isLessThan(flood / 2);
        assertThat(flooding.isDone()).isFalse();

        byte[] rest = readExactly(connection, (int) (flood - 1), ByteBuffer.allocateDirect(256 << 10));
        await(flooding);
        for (int i = 0; i < rest.length; i++) {
            if (rest[i] != pattern(i + 1)) {
                throw new AssertionError("byte " + (i + 1) + " out of order");
            }
        }
    }

    // ---------------------------------------------------------------------------------------- misuse

    @Test
    void aSecondReadOrWriteWhileOnePendsIsRefused() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);

        Future<Integer> read = connection.read(ByteBuffer.allocate(16));
        assertThat(read.isDone()).isFalse();
        assertThatThrownBy(() -> connection.read(ByteBuffer.allocate(16)))
                .isInstanceOf(ReadPendingException.class);
        PendingWrite write = writeUntilPending(connection, ByteBuffer.allocate(1 << 20));
        assertThatThrownBy(() -> connection.write(ByteBuffer.allocate(16)))
                .isInstanceOf(WritePendingException.class);

        peer.out().write(7);
        assertThat(await(read)).isEqualTo(1);
        CompletableFuture<Drained> drained = background(peer::drain);
        assertThat(await(write.future())).isPositive();
        connection.shutdownOutput();
        assertThat(await(drained).bytes()).isGreaterThan(write.writtenBefore());
    }

    // ---------------------------------------------------------------------------------------- failures and close

    @Test
    void closeFailsThePendingReadRunsOnCloseOnceAndSendsNoCloseNotify() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        Recorder pendingRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, pendingRead);

        closeFromTwoThreadsAtOnceThenAgain(connection);

        assertThat(await(pendingRead.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(pendingRead.thread).isEqualTo(loopName);
        assertThat(closeCallbacks).hasValue(1);
        assertThat(connection.isOpen()).isFalse();
        assertThat(peer.drain()).as("abortive: TCP ends without close_notify").isEqualTo(new Drained(0, false));
        Recorder lateRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, lateRead);
        assertThat(await(lateRead.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        Recorder lateWrite = new Recorder();
        connection.write(ByteBuffer.wrap(ascii("late")), null, lateWrite);
        assertThat(await(lateWrite.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(connection::shutdownOutput).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void closingTheLoopClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        Recorder pendingRead = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, pendingRead);

        loop.close();

        assertThat(await(pendingRead.failure)).isInstanceOf(AsynchronousCloseException.class);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
        assertThat(peer.drain()).isEqualTo(new Drained(0, false));
    }

    @Test
    void aResetByThePeerFailsTheReadWithAnIoException() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, read);

        peer.tcp().setSoLinger(true, 0);
        peer.tcp().close();

        assertThat(await(read.failure)).isInstanceOf(IOException.class).isNotInstanceOf(SSLException.class);
        assertThat(connection.isOpen()).isTrue();
        assertThat(closeCallbacks).hasValue(0);
    }

    @Test
    void aShutdownThatFailsOnAResetConnectionThrowsOnceAndLeavesTheConnectionOpen() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = accept(peer, TLS13);
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, read);
        peer.tcp().setSoLinger(true, 0);
        peer.tcp().close();
        assertThat(await(read.failure)).isInstanceOf(IOException.class);

        // Writing close_notify meets the reset; the failure is the channel's, not the engine's.
        assertThatThrownBy(connection::shutdownOutput).isInstanceOf(IOException.class)
                .isNotInstanceOf(SSLException.class);
        assertThat(connection.shutdownOutput()).isSameAs(connection);
        assertThat(connection.isOpen()).isTrue();
        assertThat(closeCallbacks).hasValue(0);
    }

    @Test
    void tls12RenegotiationFailsTheReadWithSslExceptionAndClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS12);
        TlsDetachedConnection connection = accept(peer, TLS12);
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(16), null, read);

        // The JDK client sends its ClientHello and returns; the handshake would go on as it reads.
        background(() -> {
            peer.ssl().startHandshake();
            return null;
        });

        assertThat(await(read.failure)).isInstanceOf(SSLException.class);
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    // ---------------------------------------------------------------------------------------- engine edges

    @Test
    void handedOverBytesBeyondTheSessionsSizesAreAllRead() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine engine = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, engine);
        int applicationSize = engine.getSession().getApplicationBufferSize();
        byte[] records = new byte[3 * applicationSize];
        for (int i = 0; i < records.length; i++) {
            records[i] = pattern(i);
        }
        // The container decrypted more than one record's worth and read three records it did not unwrap.
        ByteBuffer plaintext = ByteBuffer.wrap(records, 0, applicationSize + 1);
        for (int offset = applicationSize + 1; offset < records.length; offset += applicationSize / 2) {
            peer.out().write(records, offset, Math.min(applicationSize / 2, records.length - offset));
        }
        ByteBuffer ciphertext = ByteBuffer.allocate(4 * engine.getSession().getPacketBufferSize());
        for (int i = 0; i < 3; i++) {
            ciphertext.put(TestTls.readRecord(channel));
        }
        ciphertext.put(TestTls.readExactly(channel, 3)).flip();
        assertThat(ciphertext.remaining()).isGreaterThan(engine.getSession().getPacketBufferSize());
        channel.configureBlocking(false);
        TlsDetachedConnection connection = wrap(channel, engine, plaintext, ciphertext);

        assertThat(readExactly(connection, records.length, ByteBuffer.allocate(applicationSize))).isEqualTo(records);
    }

    @Test
    void buffersGrowWhenTheSessionsSizesGrowAfterTheHandOver() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, real);
        channel.configureBlocking(false);
        // At the hand-over the session's sizes are too small for the records to come; from then on they
        // are the real ones, as when the JDK engine grows its session's sizes for large records.
        AtomicBoolean grown = new AtomicBoolean();
        SSLSession session = ForwardingSslEngine.withSizes(real.getSession(),
                () -> grown.get() ? real.getSession().getApplicationBufferSize() : 16,
                () -> grown.get() ? real.getSession().getPacketBufferSize() : 16);
        TlsDetachedConnection connection = wrap(channel, new ForwardingSslEngine(real) {
            @Override
            public SSLSession getSession() {
                return session;
            }
        }, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        grown.set(true);
        byte[] message = new byte[1000];
        for (int i = 0; i < message.length; i++) {
            message[i] = pattern(i);
        }

        peer.out().write(message);
        ByteBuffer received = ByteBuffer.allocate(4096);
        // One read delivers the whole record, unwrapped after both buffers grew.
        assertThat(await(connection.read(received))).isEqualTo(message.length);
        assertThat(Arrays.copyOf(received.array(), received.position())).isEqualTo(message);
        writeFully(connection, ByteBuffer.wrap(message));
        assertThat(peer.in().readNBytes(message.length)).isEqualTo(message);
    }

    @Test
    void anEngineWantingMoreRoomThanItsSessionSaysFailsTheReadAndClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, real);
        channel.configureBlocking(false);
        SSLSession session = ForwardingSslEngine.withSizes(real.getSession(),
                () -> 16, () -> real.getSession().getPacketBufferSize());
        TlsDetachedConnection connection = wrap(channel, new ForwardingSslEngine(real) {
            @Override
            public SSLSession getSession() {
                return session;
            }
        }, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        Recorder read = new Recorder();
        connection.read(ByteBuffer.allocate(4096), null, read);

        peer.out().write(new byte[1000]);

        assertThat(await(read.failure)).isExactlyInstanceOf(SSLException.class)
                .hasMessage("The TLS engine wants more room than its session's buffer size 16");
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void anEngineMakingNoProgressUnwrappingFailsTheReadAndClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) {
                return new SSLEngineResult(Status.OK, HandshakeStatus.NOT_HANDSHAKING, 0, 0);
            }
        });
        Recorder read = new Recorder();

        connection.read(ByteBuffer.allocate(16), null, read);

        assertThat(await(read.failure)).isExactlyInstanceOf(SSLException.class)
                .hasMessageStartingWith("The TLS engine made no progress unwrapping: ");
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void aDelegatedTaskAfterAnUnwrapRunsAndReadingGoesOn() throws Exception {
        Peer peer = connectPeer(TLS13);
        AtomicInteger tasksRun = new AtomicInteger();
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new TaskOnceEngine(real, tasksRun) {
            @Override
            public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
                    throws SSLException {
                return taskFirst() ? taskResult() : super.unwrap(src, dsts, offset, length);
            }
        });
        peer.out().write(ascii("after task"));

        assertThat(readExactly(connection, 10, ByteBuffer.allocate(64))).isEqualTo(ascii("after task"));
        assertThat(tasksRun).hasValue(1);
    }

    @Test
    void anEngineMakingNoProgressWrappingFailsTheWriteAndClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) {
                return new SSLEngineResult(Status.OK, HandshakeStatus.NOT_HANDSHAKING, 0, 0);
            }
        });
        Recorder write = new Recorder();

        connection.write(ByteBuffer.wrap(ascii("stuck")), null, write);

        assertThat(await(write.failure)).isExactlyInstanceOf(SSLException.class)
                .hasMessageStartingWith("The TLS engine made no progress wrapping: ");
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
    }

    @Test
    void aDelegatedTaskBeforeAWrapRunsAndTheWriteGoesOut() throws Exception {
        Peer peer = connectPeer(TLS13);
        AtomicInteger tasksRun = new AtomicInteger();
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new TaskOnceEngine(real, tasksRun) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                return taskFirst() ? taskResult() : super.wrap(srcs, offset, length, dst);
            }
        });

        assertThat(await(connection.write(ByteBuffer.wrap(ascii("after task"))))).isEqualTo(10);

        assertThat(peer.in().readNBytes(10)).isEqualTo(ascii("after task"));
        assertThat(tasksRun).hasValue(1);
    }

    @Test
    void aWrapThatProducedARecordWithoutConsumingAndAsksForATaskSendsThatRecord() throws Exception {
        Peer peer = connectPeer(TLS13);
        AtomicInteger tasksRun = new AtomicInteger();
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, real);
        channel.configureBlocking(false);
        // The record is the KeyUpdate a TLS 1.3 engine sends when asked to handshake again: the data after it
        // is under the new keys, so the peer reads it only if the KeyUpdate came first.
        TlsDetachedConnection connection = wrap(channel, new TaskOnceEngine(real, tasksRun) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                if (taskPending()) {
                    return taskResult();
                }
                SSLEngineResult result = super.wrap(srcs, offset, length, dst);
                if (result.bytesConsumed() == 0 && result.bytesProduced() > 0 && taskFirst()) {
                    return new SSLEngineResult(result.getStatus(), HandshakeStatus.NEED_TASK, 0,
                            result.bytesProduced());
                }
                return result;
            }
        }, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        real.beginHandshake();

        assertThat(await(connection.write(ByteBuffer.wrap(ascii("after update"))))).isEqualTo(12);

        assertThat(peer.in().readNBytes(12)).isEqualTo(ascii("after update"));
        assertThat(tasksRun).hasValue(1);
    }

    @Test
    void aWrapThatConsumedBytesWithoutProducingAndAsksForATaskCountsThemInTheWrite() throws Exception {
        Peer peer = connectPeer(TLS13);
        AtomicInteger tasksRun = new AtomicInteger();
        // The engine takes in the first 3 bytes and wraps them only after the task, with the rest.
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new TaskOnceEngine(real, tasksRun) {
            private final ByteBuffer taken = ByteBuffer.allocate(3);

            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                if (taskPending()) {
                    return taskResult();
                }
                if (taskFirst()) {
                    ByteBuffer src = srcs[offset];
                    ByteBuffer first = src.duplicate().limit(src.position() + taken.remaining());
                    taken.put(first).flip();
                    src.position(first.position());
                    return new SSLEngineResult(Status.OK, HandshakeStatus.NEED_TASK, taken.remaining(), 0);
                }
                if (!taken.hasRemaining()) {
                    return super.wrap(srcs, offset, length, dst);
                }
                ByteBuffer[] withTaken = new ByteBuffer[length + 1];
                withTaken[0] = taken;
                System.arraycopy(srcs, offset, withTaken, 1, length);
                int before = taken.remaining();
                SSLEngineResult result = super.wrap(withTaken, 0, withTaken.length, dst);
                int consumed = result.bytesConsumed() - (before - taken.remaining());
                return new SSLEngineResult(result.getStatus(), result.getHandshakeStatus(), consumed,
                        result.bytesProduced());
            }
        });

        assertThat(await(connection.write(ByteBuffer.wrap(ascii("abcdef"))))).isEqualTo(6);

        assertThat(peer.in().readNBytes(6)).isEqualTo(ascii("abcdef"));
        assertThat(tasksRun).hasValue(1);
    }

    @Test
    void aWriteWhoseWrapFindsTheEngineClosedMeanwhileFailsWithClosedChannelExceptionAndLeavesTheConnectionOpen()
            throws Exception {
        Peer peer = connectPeer(TLS12);
        SSLEngine real = serverEngine(TLS12);
        SocketChannel channel = acceptHandshaken(peer, real);
        channel.configureBlocking(false);
        AtomicBoolean closedMeanwhile = new AtomicBoolean();
        // Between the step that chose to wrap the write and the wrap, the engine's close_notify went out, as
        // when a TLS 1.2 peer's close_notify is answered: the real engine then wraps nothing, CLOSED.
        TlsDetachedConnection connection = wrap(channel, new ForwardingSslEngine(real) {
            @Override
            public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
                    throws SSLException {
                if (closedMeanwhile.compareAndSet(false, true)) {
                    engine.closeOutbound();
                    ByteBuffer closeNotify = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
                    assertThat(engine.wrap(ByteBuffer.allocate(0), closeNotify).getStatus()).isEqualTo(Status.CLOSED);
                    closeNotify.flip();
                    try {
                        channel.write(closeNotify);
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    assertThat(closeNotify.hasRemaining()).as("close_notify written").isFalse();
                }
                return super.wrap(srcs, offset, length, dst);
            }
        }, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        Recorder write = new Recorder();

        connection.write(ByteBuffer.wrap(ascii("late")), null, write);

        assertThat(await(write.failure)).isExactlyInstanceOf(ClosedChannelException.class);
        assertThat(connection.isOpen()).isTrue();
        assertThat(closeCallbacks).hasValue(0);
        assertThat(peer.drain()).isEqualTo(new Drained(0, true));
    }

    @Test
    void anEngineThatProducesNoCloseNotifyFailsTheShutdownAndClosesTheConnection() throws Exception {
        Peer peer = connectPeer(TLS13);
        TlsDetachedConnection connection = acceptThrough(peer, TLS13, real -> new ForwardingSslEngine(real) {
            @Override
            public void closeOutbound() {
                // Ignored: the engine's output stays open and wrapping nothing produces nothing.
            }
        });

        assertThatThrownBy(connection::shutdownOutput).isExactlyInstanceOf(SSLException.class)
                .hasMessage("The TLS engine did not produce close_notify");
        assertThat(connection.isOpen()).isFalse();
        assertThat(closeCallbacks).hasValue(1);
        assertThat(peer.drain()).isEqualTo(new Drained(0, false));
    }

    // ---------------------------------------------------------------------------------------- views

    @Test
    void exposesSessionPeerCloseReasonAddressesAndNativeObjects() throws Exception {
        Peer peer = connectPeer(TLS13);
        SSLEngine engine = serverEngine(TLS13);
        SocketChannel channel = acceptHandshaken(peer, engine);
        channel.configureBlocking(false);
        TlsDetachedConnection connection = wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));

        assertThat(connection.sslSession()).containsSame(engine.getSession());
        assertThat(connection.sslSession().orElseThrow().getProtocol()).isEqualTo(TLS13);
        assertThat(connection.peerCloseReason()).isSameAs(PEER_REASON);
        assertThat(connection.unwrap(NativeConnection.class)).containsSame(nativeConnection);
        assertThat(connection.unwrap(SSLEngine.class)).containsSame(engine);
        assertThat(connection.unwrap(SocketChannel.class)).containsSame(channel);
        assertThat(connection.unwrap(NetworkChannel.class)).containsSame(channel);
        assertThat(connection.unwrap(Thread.class)).isEmpty();
        assertThat(connection.getLocalAddress()).isEqualTo(peer.tcp().getRemoteSocketAddress());
        assertThat(connection.getRemoteAddress()).isEqualTo(peer.tcp().getLocalSocketAddress());
    }

    // ---------------------------------------------------------------------------------------- helpers

    private Peer connectPeer(String protocol) throws IOException {
        return connectPeer(protocol, 0);
    }

    /** A peer whose TCP receive buffer is {@code receiveBufferSize} bytes, fixed; the system's, growing, if 0. */
    private Peer connectPeer(String protocol, int receiveBufferSize) throws IOException {
        TappedSocket tcp = new TappedSocket();
        resources.push(tcp);
        if (receiveBufferSize > 0) {
            tcp.setReceiveBufferSize(receiveBufferSize);
        }
        tcp.connect(server.getLocalAddress(), SO_TIMEOUT_MILLIS);
        tcp.setSoTimeout(SO_TIMEOUT_MILLIS);
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(tcp, "localhost", tcp.getPort(), false);
        resources.push(ssl);
        ssl.setUseClientMode(true);
        ssl.setEnabledProtocols(new String[] {protocol});
        return new Peer(ssl, tcp);
    }

    private static SSLEngine serverEngine(String protocol) {
        SSLEngine engine = tls.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(new String[] {protocol});
        return engine;
    }

    /** Accepts the peer's connection and does the server's handshake, as a container would have done. */
    private SocketChannel acceptHandshaken(Peer peer, SSLEngine engine) throws Exception {
        SocketChannel channel = server.accept();
        resources.push(channel);
        CompletableFuture<Void> peerHandshake = background(() -> {
            peer.ssl().startHandshake();
            return null;
        });
        TestTls.handshake(channel, engine);
        await(peerHandshake);
        return channel;
    }

    /** Reads once into a fresh buffer, for a thread that is not the test's. */
    private static int readOne(TlsDetachedConnection connection) {
        try {
            return await(connection.read(ByteBuffer.allocate(16)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Accepts and handshakes with a real engine, then hands over the view {@code through} gives of it. */
    private TlsDetachedConnection acceptThrough(Peer peer, String protocol,
                                                Function<SSLEngine, SSLEngine> through) throws Exception {
        SSLEngine engine = serverEngine(protocol);
        SocketChannel channel = acceptHandshaken(peer, engine);
        channel.configureBlocking(false);
        return wrap(channel, through.apply(engine), ByteBuffer.allocate(0), ByteBuffer.allocate(0));
    }

    /** Says once, on its first wrap or unwrap that a subclass routes through it, that a task is due. */
    private static class TaskOnceEngine extends ForwardingSslEngine {
        private final AtomicInteger tasksRun;
        private final AtomicBoolean taskGiven = new AtomicBoolean();
        private final AtomicBoolean taskDue = new AtomicBoolean();

        TaskOnceEngine(SSLEngine engine, AtomicInteger tasksRun) {
            super(engine);
            this.tasksRun = tasksRun;
        }

        boolean taskFirst() {
            return taskDue.compareAndSet(false, true);
        }

        /** Whether the task was said to be due and has not run yet. */
        boolean taskPending() {
            return taskDue.get() && tasksRun.get() == 0;
        }

        static SSLEngineResult taskResult() {
            return new SSLEngineResult(Status.OK, HandshakeStatus.NEED_TASK, 0, 0);
        }

        @Override
        public Runnable getDelegatedTask() {
            return taskDue.get() && taskGiven.compareAndSet(false, true) ? tasksRun::incrementAndGet : null;
        }
    }

    /**
     * Accepts the peer's connection of {@link #connectPeer(String, int) fixed buffers} and handshakes with
     * {@code engine}, then fixes this side's TCP send buffer to {@link #SMALL_BUFFER} too: while the peer does
     * not read, the kernel then holds far less than {@link #PADDING} bytes in all.
     */
    private SocketChannel acceptWithSmallBuffers(Peer peer, SSLEngine engine) throws Exception {
        SocketChannel channel = acceptHandshaken(peer, engine);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
        channel.configureBlocking(false);
        return channel;
    }

    /** A connection over a {@link PaddedEngine} around {@code real}, with the channels' buffers small. */
    private record Padded(SSLEngine real, PaddedEngine engine, TlsDetachedConnection connection) {
    }

    /** Accepts {@code peer}'s connection {@link #acceptWithSmallBuffers with small buffers}, over a {@link PaddedEngine}. */
    private Padded acceptPadded(Peer peer) throws Exception {
        SSLEngine real = serverEngine(TLS13);
        SocketChannel channel = acceptWithSmallBuffers(peer, real);
        PaddedEngine engine = new PaddedEngine(real);
        return new Padded(real, engine, wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0)));
    }

    /**
     * Puts records of filler bytes, wrapped by the real engine when {@link #pad} is called, ahead of what its
     * next wrap produces, in one result: more than the channel takes at once while the peer does not read, so
     * that the connection stalls on that wrap's output, at a record boundary. The session's packet size grows
     * by what waits, as the JDK engine's does for large records.
     */
    private static class PaddedEngine extends ForwardingSslEngine {
        private final SSLSession session;
        private volatile ByteBuffer padding = ByteBuffer.allocate(0);

        PaddedEngine(SSLEngine engine) {
            super(engine);
            session = ForwardingSslEngine.withSizes(engine.getSession(),
                    () -> engine.getSession().getApplicationBufferSize(),
                    () -> engine.getSession().getPacketBufferSize() + padding.remaining());
        }

        /** Wraps {@code length} bytes of {@link DetachedConnectionTesting#pattern} now, for the next wrap. */
        void pad(int length) throws SSLException {
            ByteBuffer filler = ByteBuffer.allocate(length);
            for (int i = 0; i < length; i++) {
                filler.put(pattern(i));
            }
            filler.flip();
            ByteBuffer records = ByteBuffer.allocate(2 * length);
            while (filler.hasRemaining()) {
                SSLEngineResult result = engine.wrap(filler, records);
                assertThat(result.getStatus()).isEqualTo(Status.OK);
            }
            padding = records.flip();
        }

        @Override
        public SSLSession getSession() {
            return session;
        }

        @Override
        public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
            ByteBuffer waiting = padding;
            if (!waiting.hasRemaining()) {
                return super.wrap(srcs, offset, length, dst);
            }
            if (dst.remaining() < waiting.remaining() + engine.getSession().getPacketBufferSize()) {
                return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
            }
            int padded = waiting.remaining();
            dst.put(waiting);
            SSLEngineResult result = super.wrap(srcs, offset, length, dst);
            return new SSLEngineResult(result.getStatus(), result.getHandshakeStatus(), result.bytesConsumed(),
                    padded + result.bytesProduced());
        }
    }

    private TlsDetachedConnection accept(Peer peer, String protocol) throws Exception {
        SSLEngine engine = serverEngine(protocol);
        SocketChannel channel = acceptHandshaken(peer, engine);
        channel.configureBlocking(false);
        return wrap(channel, engine, ByteBuffer.allocate(0), ByteBuffer.allocate(0));
    }

    private TlsDetachedConnection wrap(SocketChannel channel, SSLEngine engine, ByteBuffer plaintext,
                                       ByteBuffer ciphertext) {
        TlsDetachedConnection connection = new TlsDetachedConnection(loop, channel, engine, plaintext,
                ciphertext, PEER_REASON, nativeConnection, closeCallbacks::incrementAndGet);
        resources.push(connection);
        return connection;
    }
}
