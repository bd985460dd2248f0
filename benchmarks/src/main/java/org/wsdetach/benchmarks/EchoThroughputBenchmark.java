package org.wsdetach.benchmarks;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.wsdetach.demo.DemoServer;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * Whether a detached connection moves bytes as fast as a plain socket: the same client echoes 1 MiB per
 * operation, as 16 round trips of 64 KiB, through the demo server's detached connection (its RawEcho
 * handler) and through a plain blocking socket echo of the JDK. The score is MiB per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EchoThroughputBenchmark {

    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS_PER_OPERATION = 16;

    @Param({"detached", "plain-socket"})
    String path;

    private AutoCloseable server;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] block = new byte[BLOCK];
    private final byte[] echo = new byte[BLOCK];

    @Setup(Level.Trial)
    public void connect() throws Exception {
        if (path.equals("detached")) {
            DemoServer demo = DemoServer.start("127.0.0.1", 0);
            server = demo;
            open(demo.port());
            detachFromTheClient();
        } else {
            PlainEchoServer plain = new PlainEchoServer();
            server = plain;
            open(plain.port());
        }
    }

    private void open(int port) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** A raw upgrade and a masked close frame (all-zero key); the server's reply close is 4 bytes. */
    private void detachFromTheClient() throws IOException {
        out.write(("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in the handshake");
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
        out.write(HexFormat.of().parseHex("888200000000" + "03e8"));
        readFully(4);
    }

    @Benchmark
    public int echoOneMebibyte() throws IOException {
        for (int i = 0; i < BLOCKS_PER_OPERATION; i++) {
            out.write(block);
            readFully(BLOCK);
        }
        return echo[0];
    }

    private void readFully(int length) throws IOException {
        int read = 0;
        while (read < length) {
            int n = in.read(echo, read, length - read);
            if (n < 0) {
                throw new EOFException("echo ended after " + read + " of " + length + " bytes");
            }
            read += n;
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        socket.close();
        server.close();
    }

    /** The baseline: a thread per connection copying input to output through a 64 KiB buffer. */
    static final class PlainEchoServer implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());

        PlainEchoServer() throws IOException {
            Thread acceptor = new Thread(this::serve, "plain-echo");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void serve() {
            try (Socket connection = listener.accept()) {
                connection.setTcpNoDelay(true);
                InputStream input = connection.getInputStream();
                OutputStream output = connection.getOutputStream();
                byte[] buffer = new byte[BLOCK];
                for (int n; (n = input.read(buffer)) >= 0; ) {
                    output.write(buffer, 0, n);
                }
            } catch (IOException e) {
                // The benchmark closed the connection or the listener: the baseline is over.
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
