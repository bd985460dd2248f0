package org.wsdetach.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;

/**
 * The demo's jar, {@code demo/target/wsdetach-demo.jar}, as the README runs it on one container
 * ({@code --container} {@link #container()}): the self-test, the server command over {@code ws} and
 * {@code wss}, the client command against that server and against the container without wsdetach, and a port
 * that is taken. The jar carries all three containers; one subclass per container, in that container's test
 * module, which has the container for the stock server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DemoCommandLineConformance {

    public static final Path JAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.jar");

    private Process plainServer;
    private URI plain;
    private Process secureServer;
    private URI secure;
    private Path certificate;

    /** The value of {@code --container}. */
    protected abstract String container();

    /** What the container alone writes to standard error as it starts. */
    protected abstract String startUpLog();

    /** The same container, without wsdetach: the stock server of {@link #theClientCommandFailsAgainstTheContainerWithoutWsdetach}. */
    protected abstract ServerFixture fixture();

    /** What marks the container's answer to a request for a page that is not there. */
    protected abstract String notFoundMark();

    /** What the server command writes to standard error, after {@code cannot start the server: }, when its port is taken. */
    protected abstract List<String> takenPortError();

    @BeforeAll
    void startServers(@TempDir Path keys) throws Exception {
        plainServer = java(null, "server", "--container", container(), "--port", "0", "--host", "127.0.0.1");
        plain = announced(plainServer, "ws");
        certificate = keys.resolve("demo.crt");
        secureServer = java(null, "server", "--port", "0", "--tls", "--cert", certificate.toString(),
                "--container", container());
        secure = announced(secureServer, "wss");
        assertThat(certificate).isRegularFile();
    }

    @AfterAll
    void stopServers() throws Exception {
        for (Process server : new Process[] {plainServer, secureServer}) {
            if (server != null) {
                server.destroy();
                assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the server stops when told to").isTrue();
            }
        }
    }

    /** Runs the jar; standard error goes to {@code errors}, or is discarded if null. */
    public static Process java(Path errors, String... args) throws Exception {
        assertThat(JAR).as("built by the demo module's package phase").exists();
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(javaBin.toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectError(errors == null
                        ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(errors.toFile()))
                .start();
    }

    /** Standard output, once the process has ended (within a bound). */
    public static String runToEnd(Process process) throws Exception {
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the process ends").isTrue();
        return output.get(10, TimeUnit.SECONDS);
    }

    /** The address in the server's first line, {@code listening on <scheme>://127.0.0.1:<port>/echo}. */
    private static URI announced(Process server, String scheme) throws Exception {
        BufferedReader lines = new BufferedReader(
                new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get(60, TimeUnit.SECONDS);
        Matcher matcher = Pattern.compile("listening on (" + scheme + "://127\\.0\\.0\\.1:\\d+/echo)")
                .matcher(String.valueOf(line));
        assertThat(matcher.matches()).as(line).isTrue();
        return URI.create(matcher.group(1));
    }

    @Test
    void theSelfTestPasses(@TempDir Path files) throws Exception {
        Path errors = files.resolve("self-test.err");
        Process process = java(errors, "--container", container());
        assertThat(runToEnd(process)).startsWith("wsdetach self-test on " + container() + " against ws://127.0.0.1:")
                .contains("server-detach: detach latency", "client-detach: detach latency").endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
        assertThat(Files.readString(errors)).contains(startUpLog());
    }

    @Test
    void theServerCommandServesTheProtocol() throws Exception {
        try (RawPeer peer = RawPeer.connect(plain)) {
            peer.writeHex(frame(0x8, "03e8") + ascii("raw"));
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            peer.shutdownOutput();
            assertThat(peer.readToEnd(3)).isEqualTo("raw".getBytes(StandardCharsets.US_ASCII));
        }
        // The container the server command was told to run on answers, not another of the jar's.
        try (Socket socket = new Socket(plain.getHost(), plain.getPort())) {
            socket.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
            socket.getOutputStream().write(("GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 404").contains(notFoundMark());
        }
    }

    @ParameterizedTest
    @CsvSource({"server-detach, 0", "server-detach, 5", "server-detach, 16777216",
            "client-detach, 0", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksTheServer(String mode, long bytes) throws Exception {
        Process client = java(null, "client", plain.toString(), "--mode", mode, "--bytes", Long.toString(bytes));
        assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
        assertThat(client.exitValue()).isZero();
    }

    /** The empty echo is the plain run's: over TLS, a few bytes and many, each a JVM of its own. */
    @ParameterizedTest
    @CsvSource({"server-detach, 5", "server-detach, 16777216", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksTheServerOverTls(String mode, long bytes) throws Exception {
        Process client = java(null, "client", secure.toString(), "--mode", mode, "--bytes", Long.toString(bytes),
                "--trust", certificate.toString());
        assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
        assertThat(client.exitValue()).isZero();
    }

    @Test
    void theClientCommandFailsAgainstTheContainerWithoutWsdetach() throws Exception {
        try (ServerFixture.RunningServer stock = fixture().startStock(Probe.ProbeEndpoint.class)) {
            Probe.reset();
            Process client = java(null, "client", stock.uri("/probe").toString(), "--mode", "client-detach",
                    "--bytes", "5");
            assertThat(runToEnd(client)).startsWith("FAIL mode=client-detach bytes=5");
            assertThat(client.exitValue()).isEqualTo(1);
        }
    }

    @Test
    void aTakenPortIsReportedAndTheServerExits(@TempDir Path files) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path errors = files.resolve("taken.err");
            Process process = java(errors, "server", "--container", container(), "--host", "127.0.0.1", "--port",
                    Integer.toString(taken.getLocalPort()));
            assertThat(runToEnd(process)).isEmpty();
            assertThat(process.exitValue()).isEqualTo(1);
            assertThat(Files.readString(errors)).contains("cannot start the server: ").contains(takenPortError());
        }
    }
}
