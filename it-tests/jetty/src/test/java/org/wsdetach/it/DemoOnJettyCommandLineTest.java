package org.wsdetach.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.EchoEndpoint;
import org.wsdetach.demo.JettyServer;

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
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;

/**
 * The demo's jar on Jetty, as the README runs it: {@code --container jetty} for the self-test and the server
 * command, the client command against that server over {@code ws} and {@code wss}, the jar's service files that
 * the three containers share, and the container option's errors. The jar carries its own Jetty ee10, whichever
 * layer this module's class path has (wsdetach-it-jetty-ee11 leaves this class out).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoOnJettyCommandLineTest {

    static final Path JAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.jar");

    Process plainServer;
    URI plain;
    Process secureServer;
    URI secure;
    Path certificate;

    @BeforeAll
    void startServers(@TempDir Path keys) throws Exception {
        plainServer = java(null, "server", "--container", "jetty", "--port", "0", "--host", "127.0.0.1");
        String line = announcedAddress(plainServer);
        Matcher matcher = Pattern.compile("listening on (ws://127\\.0\\.0\\.1:\\d+/echo)").matcher(line);
        assertThat(matcher.matches()).as(line).isTrue();
        plain = URI.create(matcher.group(1));
        certificate = keys.resolve("demo.crt");
        secureServer = java(null, "server", "--port", "0", "--tls", "--cert", certificate.toString(),
                "--container", "jetty");
        line = announcedAddress(secureServer);
        matcher = Pattern.compile("listening on (wss://127\\.0\\.0\\.1:\\d+/echo)").matcher(line);
        assertThat(matcher.matches()).as(line).isTrue();
        secure = URI.create(matcher.group(1));
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
    private static Process java(Path errors, String... args) throws Exception {
        assertThat(JAR).as("built by the demo module's package phase").exists();
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(javaBin.toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectError(errors == null
                        ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(errors.toFile()))
                .start();
    }

    private static String runToEnd(Process process) throws Exception {
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return output.get(10, TimeUnit.SECONDS);
    }

    private static String announcedAddress(Process server) throws Exception {
        BufferedReader lines = new BufferedReader(
                new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }

    @Test
    void theJarMergesTheThreeContainersServiceFiles() throws Exception {
        try (ZipFile jar = new ZipFile(JAR.toFile())) {
            assertThat(service(jar, "org.wsdetach.spi.DetachProvider")).contains("org.wsdetach.tyrus.TyrusDetachProvider",
                    "org.wsdetach.tomcat.TomcatDetachProvider", "org.wsdetach.jetty.JettyDetachProvider");
            assertThat(service(jar, "jakarta.servlet.ServletContainerInitializer")).contains(
                    "org.apache.tomcat.websocket.server.WsSci", "org.wsdetach.tomcat.DetachInitializer",
                    "org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer",
                    "org.wsdetach.jetty.DetachInitializer");
            assertThat(service(jar, "org.glassfish.tyrus.spi.ServerContainerFactory")).isNotEmpty();
            // Named by all three: every line kept; see demo/pom.xml for which one each container uses.
            assertThat(service(jar, "jakarta.websocket.server.ServerEndpointConfig$Configurator")).containsExactly(
                    "org.glassfish.tyrus.core.TyrusServerEndpointConfigurator",
                    "org.apache.tomcat.websocket.server.DefaultServerEndpointConfigurator",
                    "org.eclipse.jetty.ee10.websocket.jakarta.server.config.ContainerDefaultConfigurator");
            assertThat(service(jar, "jakarta.websocket.ContainerProvider")).contains(
                    "org.apache.tomcat.websocket.WsContainerProvider",
                    "org.eclipse.jetty.ee10.websocket.jakarta.client.JakartaWebSocketClientContainerProvider");
            // Jetty's own services, without which its WebSocket has no extensions and its logging no binding.
            assertThat(service(jar, "org.eclipse.jetty.websocket.core.Extension"))
                    .contains("org.eclipse.jetty.websocket.core.internal.PerMessageDeflateExtension");
            assertThat(service(jar, "org.slf4j.spi.SLF4JServiceProvider"))
                    .containsExactly("org.eclipse.jetty.logging.JettyLoggingServiceProvider");
            assertThat(jar.stream().map(ZipEntry::getName)).noneMatch(name -> name.endsWith("module-info.class")
                    || name.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)"));
        }
    }

    private static List<String> service(ZipFile jar, String name) throws Exception {
        ZipEntry entry = jar.getEntry("META-INF/services/" + name);
        assertThat(entry).as(name).isNotNull();
        return new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8).lines()
                .map(String::trim).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    }

    @Test
    void theSelfTestPassesOnJetty(@TempDir Path files) throws Exception {
        Path errors = files.resolve("self-test.err");
        Process process = java(errors, "--container", "jetty");
        assertThat(runToEnd(process)).startsWith("wsdetach self-test on jetty against ws://127.0.0.1:")
                .contains("server-detach: detach latency", "client-detach: detach latency").endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
        // Jetty's start-up line, at INFO, through its SLF4J binding (no "no SLF4J providers" warning).
        assertThat(Files.readString(errors)).contains(":INFO :oejs.Server:main: jetty-12.1.")
                .doesNotContain("SLF4J", "Apache Tomcat", "org.glassfish.tyrus", ":DEBUG");
    }

    @ParameterizedTest
    @CsvSource({"tyrus, org.glassfish.tyrus", "tomcat, Starting Servlet engine: [Apache Tomcat/"})
    void theSelfTestStillPassesOnTheOtherContainers(String container, String logged, @TempDir Path files)
            throws Exception {
        Path errors = files.resolve("self-test-" + container + ".err");
        Process process = java(errors, "--container", container);
        assertThat(runToEnd(process)).startsWith("wsdetach self-test on " + container + " against ws://127.0.0.1:")
                .endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
        assertThat(Files.readString(errors)).contains(logged).doesNotContain("oejs.Server");
    }

    @Test
    void theSelfTestStaysOnTyrusUnlessToldOtherwise(@TempDir Path files) throws Exception {
        Path errors = files.resolve("self-test-default.err");
        Process process = java(errors);
        assertThat(runToEnd(process)).startsWith("wsdetach self-test on tyrus against ws://127.0.0.1:")
                .endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
        assertThat(Files.readString(errors)).doesNotContain("oejs.Server", "Apache Tomcat").contains("org.glassfish.tyrus");
    }

    @Test
    void theServerCommandServesTheProtocolOnJetty() throws Exception {
        try (RawPeer peer = RawPeer.connect(plain)) {
            peer.writeHex(frame(0x8, "03e8") + ascii("raw"));
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            peer.shutdownOutput();
            assertThat(peer.readToEnd(3)).isEqualTo("raw".getBytes(StandardCharsets.US_ASCII));
        }
        // Jetty names itself in its Server header: Tyrus' Grizzly and Tomcat would answer otherwise.
        try (Socket socket = new Socket(plain.getHost(), plain.getPort())) {
            socket.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
            socket.getOutputStream().write(("GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 404").contains("Server: Jetty(12.");
        }
    }

    @ParameterizedTest
    @CsvSource({"server-detach, 0", "server-detach, 5", "server-detach, 16777216",
            "client-detach, 0", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksTheJettyServer(String mode, long bytes) throws Exception {
        Process client = java(null, "client", plain.toString(), "--mode", mode, "--bytes", Long.toString(bytes));
        assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
        assertThat(client.exitValue()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"server-detach, 0", "server-detach, 5", "server-detach, 16777216",
            "client-detach, 0", "client-detach, 5", "client-detach, 16777216"})
    void theClientCommandChecksTheJettyServerOverTls(String mode, long bytes) throws Exception {
        Process client = java(null, "client", secure.toString(), "--mode", mode, "--bytes", Long.toString(bytes),
                "--trust", certificate.toString());
        assertThat(runToEnd(client)).startsWith("OK mode=" + mode + " bytes=" + bytes + " ");
        assertThat(client.exitValue()).isZero();
    }

    /** Against the demo's own endpoint on its JettyServer without wsdetach's initializer: Jetty as it is. */
    @ParameterizedTest
    @CsvSource({"client-detach", "server-detach"})
    void theClientCommandFailsAgainstAJettyThatDoesNotDetach(String mode) throws Exception {
        try (JettyServer stock = JettyServer.start("127.0.0.1", 0, null, false, EchoEndpoint.class)) {
            Process client = java(null, "client", "ws://127.0.0.1:" + stock.port() + "/echo", "--mode", mode,
                    "--bytes", "5");
            assertThat(runToEnd(client)).startsWith("FAIL mode=" + mode + " bytes=5");
            assertThat(client.exitValue()).isEqualTo(1);
        }
    }

    @Test
    void aTakenPortIsReportedAndTheServerExits(@TempDir Path files) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path errors = files.resolve("taken.err");
            Process process = java(errors, "server", "--container", "jetty", "--port",
                    Integer.toString(taken.getLocalPort()));
            assertThat(runToEnd(process)).isEmpty();
            assertThat(process.exitValue()).isEqualTo(1);
            assertThat(Files.readString(errors)).contains("cannot start the server: ", "Jetty did not start",
                    "java.net.BindException");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "server --container undertow --port 0",
            "--container undertow",
            "--container",
            "server --port 0 --container",
            "--port 0",
    })
    void aBadContainerOptionExitsWithUsage(String arguments, @TempDir Path files) throws Exception {
        Path errors = files.resolve("usage.err");
        Process process = java(errors, arguments.split(" "));
        assertThat(runToEnd(process)).isEmpty();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(errors)).contains(
                "usage: java -jar wsdetach-demo.jar [--container tyrus|tomcat|jetty]",
                "server --port P [--host H] [--container tyrus|tomcat|jetty]",
                "or jetty (embedded Eclipse Jetty 12, ee10)");
    }

    @Test
    void anUnknownContainerIsNamedInTheError(@TempDir Path files) throws Exception {
        Path errors = files.resolve("undertow.err");
        Process process = java(errors, "server", "--container", "undertow", "--port", "0");
        assertThat(runToEnd(process)).isEmpty();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(errors)).startsWith("--container is tyrus, tomcat or jetty, not undertow\n");
    }
}
