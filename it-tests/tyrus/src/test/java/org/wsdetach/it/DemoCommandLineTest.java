package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoServer;
import org.wsdetach.demo.DemoTls;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;

/** The demo's jar as the README runs it: the self-test, the server command and the client command. */
class DemoCommandLineTest {

    static final Path JAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.jar");

    private static Process java(String... args) throws Exception {
        assertThat(JAR).as("built by the demo module's package phase").exists();
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(javaBin.toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void theSelfTestPasses() throws Exception {
        Process process = java();
        assertThat(runToEnd(process)).contains("server-detach", "client-detach").endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
    }

    private static String runToEnd(Process process) throws Exception {
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return output.get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @CsvSource({"server-detach, 0", "server-detach, 5", "server-detach, 16777216",
            "client-detach, 0", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksAServer(String mode, long bytes) throws Exception {
        try (DemoServer server = DemoServer.start("127.0.0.1", 0)) {
            Process client = java("client", server.uri().toString(), "--mode", mode, "--bytes", Long.toString(bytes));
            assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
            assertThat(client.exitValue()).isZero();
        }
    }

    @ParameterizedTest
    @CsvSource({"server-detach, 0", "server-detach, 5", "server-detach, 16777216",
            "client-detach, 0", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksAServerOverTls(String mode, long bytes, @TempDir Path keys) throws Exception {
        Path certificate = keys.resolve("server.crt");
        try (DemoServer server = DemoServer.start("127.0.0.1", 0, DemoTls.selfSigned(certificate))) {
            assertThat(server.uri().getScheme()).isEqualTo("wss");
            Process client = java("client", server.uri().toString(), "--mode", mode, "--bytes", Long.toString(bytes),
                    "--trust", certificate.toString());
            assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
            assertThat(client.exitValue()).isZero();
        }
    }

    @Test
    void theServerCommandServesWssWithACertificateForClients(@TempDir Path keys) throws Exception {
        Path certificate = keys.resolve("demo.crt");
        Process process = java("server", "--port", "0", "--tls", "--cert", certificate.toString());
        try {
            URI uri = URI.create(announcedAddress(process).substring("listening on ".length()));
            assertThat(uri.getScheme()).isEqualTo("wss");
            Process client = java("client", uri.toString(), "--mode", "client-detach", "--bytes", "5",
                    "--trust", certificate.toString());
            assertThat(runToEnd(client)).startsWith("OK mode=client-detach bytes=5 ");
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String announcedAddress(Process server) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get(30, TimeUnit.SECONDS);
    }

    @Test
    void theClientCommandFailsAgainstAServerThatDoesNotDetach() throws Exception {
        try (ServerFixture.RunningServer stock = new TyrusFixture().startStock(Probe.ProbeEndpoint.class)) {
            Probe.reset();
            Process client = java("client", stock.uri("/probe").toString(), "--mode", "client-detach", "--bytes", "5");
            assertThat(runToEnd(client)).startsWith("FAIL mode=client-detach bytes=5");
            assertThat(client.exitValue()).isEqualTo(1);
        }
    }

    @Test
    void badArgumentsExitWithUsage() throws Exception {
        Process client = java("client", "ws://127.0.0.1:1/echo", "--mode", "sideways", "--bytes", "5");
        assertThat(runToEnd(client)).isEmpty();
        assertThat(client.exitValue()).isEqualTo(2);
    }

    @Test
    void theServerCommandAnnouncesItsAddressAndServesTheProtocol() throws Exception {
        Process process = java("server", "--port", "0", "--host", "127.0.0.1");
        try {
            String line = announcedAddress(process);
            Matcher matcher = Pattern.compile("listening on ws://127\\.0\\.0\\.1:(\\d+)/echo").matcher(line);
            assertThat(matcher.matches()).as(line).isTrue();
            try (RawPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + matcher.group(1) + "/echo"))) {
                peer.writeHex(frame(0x8, "03e8") + ascii("raw"));
                assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
                peer.shutdownOutput();
                assertThat(peer.readToEnd(3)).isEqualTo("raw".getBytes(StandardCharsets.US_ASCII));
            }
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
