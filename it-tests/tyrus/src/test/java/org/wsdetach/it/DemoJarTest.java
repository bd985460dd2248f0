package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.DemoCommandLineConformance.JAR;
import static org.wsdetach.it.DemoCommandLineConformance.java;
import static org.wsdetach.it.DemoCommandLineConformance.runToEnd;

/**
 * What the demo's jar does whatever the container: the service files its three containers share, Tyrus as the
 * default, and the errors of bad arguments. Each container's own runs are {@link DemoCommandLineConformance}'s.
 */
class DemoJarTest {

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
    void theSelfTestRunsOnTyrusUnlessToldOtherwise(@TempDir Path files) throws Exception {
        Path errors = files.resolve("self-test-default.err");
        Process process = java(errors);
        assertThat(runToEnd(process)).startsWith("wsdetach self-test on tyrus against ws://127.0.0.1:")
                .endsWith("PASS\n");
        assertThat(process.exitValue()).isZero();
        // Tomcat and Jetty, in the same jar, stay idle.
        assertThat(Files.readString(errors)).doesNotContain("oejs.Server", "Apache Tomcat").contains("org.glassfish.tyrus");
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

    @Test
    void aTlsServerWritesItsCertificateToTheTemporaryDirectoryNotTheWorkingOne(@TempDir Path files) throws Exception {
        Path workingDirectory = Files.createDirectory(files.resolve("work"));
        Path temporary = Files.createDirectory(files.resolve("tmp"));
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Process server = new ProcessBuilder(javaBin.toString(), "-Djava.io.tmpdir=" + temporary,
                "-jar", JAR.toAbsolutePath().toString(), "server", "--port", "0", "--tls")
                .directory(workingDirectory.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            BufferedReader lines = new BufferedReader(
                    new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<List<String>> firstTwo =
                    CompletableFuture.supplyAsync(() -> {
                        try {
                            return List.of(String.valueOf(lines.readLine()), String.valueOf(lines.readLine()));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
            List<String> announced = firstTwo.get(60, TimeUnit.SECONDS);
            assertThat(announced.get(0)).startsWith("listening on wss://127.0.0.1:");
            assertThat(announced.get(1)).isEqualTo("certificate written to " + temporary.resolve("wsdetach-demo.crt"));
            assertThat(temporary.resolve("wsdetach-demo.crt")).isRegularFile();
            try (var left = Files.list(workingDirectory)) {
                assertThat(left).as("nothing written to the working directory").isEmpty();
            }
        } finally {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aBadClientModeExitsWithUsage(@TempDir Path files) throws Exception {
        Path errors = files.resolve("mode.err");
        Process client = java(errors, "client", "ws://127.0.0.1:1/echo", "--mode", "sideways", "--bytes", "5");
        assertThat(runToEnd(client)).isEmpty();
        assertThat(client.exitValue()).isEqualTo(2);
        assertThat(Files.readString(errors)).contains("sideways");
    }
}
