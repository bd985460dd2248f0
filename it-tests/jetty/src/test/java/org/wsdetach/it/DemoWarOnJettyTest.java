package org.wsdetach.it;

import jakarta.servlet.Filter;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * The demo's WAR, {@code demo/target/wsdetach-demo.war}, deployed unchanged the way a standalone Jetty 12 deploys
 * a WAR from {@code webapps/} with the context XML beside it ({@code demo/target/wsdetach-demo.xml}) and its
 * annotation and Jakarta WebSocket modules ({@link JettyWebApp}, on this module's servlet layer): a
 * {@code WebAppContext} whose class loader's parent, like a standalone Jetty's server class loader, holds the
 * container and nothing of wsdetach or the demo. So everything of wsdetach that runs is the WAR's own: Jetty finds
 * {@code DetachInitializer} through {@code WEB-INF/lib/wsdetach-jetty-*.jar}'s {@code META-INF/services}, its
 * WebSocket initializer the endpoint by scanning {@code WEB-INF/classes}, and {@code Detach} its provider with
 * {@code ServiceLoader} through the web application's class loader; the detaches on the wire prove it. The WAR
 * also holds {@code wsdetach-tomcat}, for Tomcat, whose initializer does nothing outside Tomcat. The WAR is ee10
 * and ee11 alike: this class runs on both layers, the context XML naming this layer's {@code WebAppContext}.
 */
class DemoWarOnJettyTest {

    static final Path WAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.war");
    /** As a standalone Jetty names the context of {@code webapps/wsdetach-demo.war}. */
    static final String CONTEXT_PATH = "/" + WAR.getFileName().toString().replaceFirst("\\.war$", "");
    /** The WAR's context XML for a standalone Jetty, which the demo's build puts beside it. */
    static final Path CONTEXT_XML = WAR.resolveSibling("wsdetach-demo.xml");
    static final String CLOSE_1000 = frame(0x8, "03e8");

    static Path workDirectory;
    static Server server;
    static JettyWebApp webapp;
    static URI echo;

    @BeforeAll
    static void deploy() throws Exception {
        assertThat(WAR).as("built by the demo module's package phase").isRegularFile();
        assertThat(CONTEXT_XML).as("put beside the WAR by the demo module's package phase").isRegularFile();
        workDirectory = Files.createTempDirectory("wsdetach-jetty-war");
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        try {
            // The demo's context XML, as a standalone Jetty's deployer applies webapps/wsdetach-demo.xml: it names
            // the WAR and the context path, and lets the application see Jetty's classes. For ee11, as
            // the file says, it names ee11's WebAppContext.
            Path contextXml = Files.writeString(workDirectory.resolve(CONTEXT_XML.getFileName()),
                    Files.readString(CONTEXT_XML).replace("org.eclipse.jetty.ee10.webapp.WebAppContext",
                            "org.eclipse.jetty." + JettyLayer.NAME + ".webapp.WebAppContext"));
            webapp = JettyWebApp.configure(server, contextXml,
                    Map.of("jetty.webapps", WAR.toAbsolutePath().getParent().toString()),
                    // Where Jetty unpacks the WAR: a directory of the test's own, deleted afterwards.
                    workDirectory.resolve("webapp"),
                    new ContainerOnly(DemoWarOnJettyTest.class.getClassLoader(),
                            org.wsdetach.Detach.class, org.wsdetach.core.DetachableConnection.class,
                            org.wsdetach.jetty.DetachInitializer.class, org.wsdetach.demo.DemoClient.class,
                            ServerFixture.class, DemoWarOnJettyTest.class));
            server.setHandler(webapp.handler());
            server.start();
        } catch (Exception | Error e) {
            undeploy();
            throw e;
        }
        assertThat(webapp.isAvailable()).as("the web application started").isTrue();
        echo = URI.create("ws://127.0.0.1:" + connector.getLocalPort() + CONTEXT_PATH + "/echo");
    }

    /** Stops Jetty and deletes its work directory, the unpacked WAR in it; once, whether the start failed or not. */
    @AfterAll
    static void undeploy() throws Exception {
        try {
            if (server != null) {
                server.stop();
            }
        } finally {
            server = null;
            if (workDirectory != null) {
                try (Stream<Path> files = Files.walk(workDirectory)) {
                    for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                        Files.deleteIfExists(file);
                    }
                }
                workDirectory = null;
            }
        }
    }

    @Test
    void theWarCarriesWsdetachJetty() throws IOException {
        try (java.util.zip.ZipFile war = new java.util.zip.ZipFile(WAR.toFile())) {
            assertThat(Collections.list(war.entries()).stream().map(java.util.zip.ZipEntry::getName))
                    .anyMatch(name -> name.matches("WEB-INF/lib/wsdetach-jetty-.+\\.jar"))
                    .noneMatch(name -> name.startsWith("WEB-INF/lib/jetty-") || name.startsWith("WEB-INF/lib/jakarta."));
        }
    }

    @Test
    void wsdetachAndTheEndpointAreTheWarsOwnLoadedByTheWebApplication() throws Exception {
        ClassLoader loader = webapp.classLoader();
        for (String name : List.of("org.wsdetach.demo.EchoEndpoint", "org.wsdetach.demo.RawEcho",
                "org.wsdetach.Detach", "org.wsdetach.core.DetachableConnection",
                "org.wsdetach.jetty.DetachInitializer", "org.wsdetach.jetty.JettyDetachProvider")) {
            Class<?> loaded = loader.loadClass(name);
            assertThat(loaded.getClassLoader()).as(name).isSameAs(loader);
            // Unpacked from the WAR into this test's work directory.
            Path location = Path.of(loaded.getProtectionDomain().getCodeSource().getLocation().toURI());
            assertThat(location).as(name).startsWith(workDirectory);
            assertThat(location.toString()).as(name).contains("/WEB-INF/");
        }
        // The initializer that ran is the WAR's: its filter, first, ahead of Jetty's WebSocket upgrade filter.
        List<Map.Entry<String, Filter>> filters = webapp.filters();
        assertThat(filters).as("DetachInitializer ran").isNotEmpty();
        assertThat(filters.get(0).getKey()).isEqualTo("wsdetach");
        assertThat(filters.get(0).getValue().getClass().getClassLoader()).isSameAs(loader);
        assertThat(filters.stream().map(Map.Entry::getKey))
                .contains("org.eclipse.jetty." + JettyLayer.NAME + ".websocket.servlet.WebSocketUpgradeFilter");
    }

    @Test
    void theServerIsJetty() throws Exception {
        try (Socket socket = new Socket(echo.getHost(), echo.getPort())) {
            socket.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
            socket.getOutputStream().write(("GET " + CONTEXT_PATH + "/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 404").contains("Server: Jetty(12.");
        }
    }

    @Test
    void textIsEchoedAsText() throws Exception {
        try (RawPeer peer = RawPeer.connect(echo)) {
            peer.writeHex(text("héllo"));
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("héllo"));
        }
    }

    @ParameterizedTest(name = "{0}, {1} bytes")
    @CsvSource({
            "server-detach, 0", "server-detach, 5", "server-detach, 1048576",
            "client-detach, 0", "client-detach, 5", "client-detach, 1048576",
    })
    void rawBytesAreEchoedAfterTheDetach(String mode, int size) throws Exception {
        byte[] raw = new byte[size];
        new Random(size).nextBytes(raw);
        int inFirstWrite = Math.min(size, 5);
        try (RawPeer peer = RawPeer.connect(echo)) {
            if (mode.equals("server-detach")) {
                peer.writeHex(text("detach"));
                assertThat(peer.readFrameHex()).isEqualTo("8808" + "03e8" + ascii("detach"));
            }
            // Our close frame and the first raw bytes in one write: for client-detach, before the server's reply.
            byte[] close = peer.bytes(CLOSE_1000);
            byte[] first = Arrays.copyOf(close, close.length + inFirstWrite);
            System.arraycopy(raw, 0, first, close.length, inFirstWrite);
            peer.write(first);
            if (mode.equals("client-detach")) {
                assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            }
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    peer.write(Arrays.copyOfRange(raw, inFirstWrite, size));
                    peer.shutdownOutput();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ByteArrayOutputStream echoed = new ByteArrayOutputStream();
            echoed.write(peer.readToEnd(size));
            sent.get(10, TimeUnit.SECONDS);
            assertThat(echoed.size()).isEqualTo(size);
            assertThat(echoed.toByteArray()).isEqualTo(raw);
        }
    }

    @ParameterizedTest(name = "{0}, {1} bytes")
    @CsvSource({
            "server-detach, 0", "server-detach, 5", "server-detach, 1048576",
            "client-detach, 0", "client-detach, 5", "client-detach, 1048576",
    })
    void theDemoClientDetachesThroughTheWar(String mode, long size) throws Exception {
        try (DemoClient client = DemoClient.connect(echo, Duration.ofSeconds(10))) {
            client.sendText("hello");
            assertThat(client.readText()).isEqualTo("hello");
            // Throws unless the close frames are as the protocol says and the echo equals what was sent.
            DemoClient.Result result = client.detach(DemoClient.Mode.of(mode), size);
            assertThat(result.bytes()).isEqualTo(size);
        }
    }

    /**
     * The parent of the web application's class loader: the test's class loader without wsdetach and the demo,
     * whose classes and resources (their {@code META-INF/services} above all) it hides, as a standalone Jetty's
     * server class loader has none of them.
     */
    private static final class ContainerOnly extends ClassLoader {

        private final List<String> hiddenRoots = new ArrayList<>();

        /** @param hidden a class of each class path entry to hide */
        ContainerOnly(ClassLoader parent, Class<?>... hidden) {
            super(parent);
            for (Class<?> type : hidden) {
                hiddenRoots.add(type.getProtectionDomain().getCodeSource().getLocation().toString());
            }
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("org.wsdetach.")) {
                throw new ClassNotFoundException(name + " is not the container's");
            }
            return super.loadClass(name, resolve);
        }

        @Override
        public URL getResource(String name) {
            try {
                Enumeration<URL> visible = getResources(name);
                return visible.hasMoreElements() ? visible.nextElement() : null;
            } catch (IOException e) {
                return null;
            }
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            URL url = getResource(name);
            try {
                return url == null ? null : url.openStream();
            } catch (IOException e) {
                return null;
            }
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            List<URL> visible = new ArrayList<>();
            for (URL url : Collections.list(super.getResources(name))) {
                String location = url.toString();
                if (hiddenRoots.stream().noneMatch(root -> location.startsWith(root)
                        || location.startsWith("jar:" + root + "!/"))) {
                    visible.add(url);
                }
            }
            return Collections.enumeration(visible);
        }
    }
}
