package org.wsdetach.it;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.scan.StandardJarScanner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * The demo's WAR, {@code demo/target/wsdetach-demo.war}, deployed unchanged the way a standalone Tomcat deploys
 * a WAR from {@code webapps/}: {@code Tomcat.addWebapp} with the WAR file, the global {@code conf/web.xml}'s
 * default servlet, and a web application class loader whose parent, like Tomcat's common loader, holds the
 * container and nothing of wsdetach or the demo. So everything of wsdetach that runs is the WAR's own: Tomcat
 * finds {@code DetachInitializer} through {@code WEB-INF/lib/wsdetach-tomcat-*.jar}'s
 * {@code META-INF/services}, the endpoint by scanning {@code WEB-INF/classes}, and {@code Detach} its provider
 * with {@code ServiceLoader} through the web application's class loader; the detaches on the wire prove it.
 */
class DemoWarDeploymentTest {

    static final Path WAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.war");
    /** As a standalone Tomcat names the context of {@code webapps/wsdetach-demo.war}. */
    static final String CONTEXT_PATH = "/" + WAR.getFileName().toString().replaceFirst("\\.war$", "");
    static final String CLOSE_1000 = frame(0x8, "03e8");

    /** A standalone Tomcat's {@code conf/web.xml}, reduced to what a WebSocket application needs of it. */
    static final String GLOBAL_WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
              <servlet>
                <servlet-name>default</servlet-name>
                <servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class>
                <load-on-startup>1</load-on-startup>
              </servlet>
              <servlet-mapping>
                <servlet-name>default</servlet-name>
                <url-pattern>/</url-pattern>
              </servlet-mapping>
            </web-app>
            """;

    static Path baseDirectory;
    static Tomcat tomcat;
    static Context context;
    static URI echo;

    @BeforeAll
    static void deploy() throws Exception {
        assertThat(WAR).as("built by the demo module's package phase").isRegularFile();
        // The first Tomcat in a JVM makes its base directory the JVM's catalina.home for good, and later ones
        // create it again once deleted: as TomcatServer does, give the JVM one that stays (under target/).
        if (System.getProperty("catalina.home") == null) {
            System.setProperty("catalina.home",
                    Files.createDirectories(Path.of("target", "catalina-home").toAbsolutePath()).toString());
        }
        baseDirectory = Files.createTempDirectory("wsdetach-war");
        Files.createDirectories(baseDirectory.resolve("webapps"));
        Path globalWebXml = Files.createDirectories(baseDirectory.resolve("conf")).resolve("web.xml");
        Files.writeString(globalWebXml, GLOBAL_WEB_XML);
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDirectory.toString());
        Connector connector = new Connector("org.apache.coyote.http11.Http11NioProtocol");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setThrowOnFailure(true);
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        // conf/web.xml, as in a standalone Tomcat, instead of the embedded defaults (which want Jasper too).
        tomcat.setAddDefaultWebXmlToWebapp(false);
        context = tomcat.addWebapp(CONTEXT_PATH, WAR.toAbsolutePath().toString());
        // Named by its absolute path: Tomcat 10.1 embedded looks for conf/web.xml in the working directory.
        ((StandardContext) context).setDefaultWebXml(globalWebXml.toAbsolutePath().toString());
        context.setParentClassLoader(new ContainerOnly(DemoWarDeploymentTest.class.getClassLoader(),
                org.wsdetach.Detach.class, org.wsdetach.core.DetachableConnection.class,
                org.wsdetach.tomcat.DetachInitializer.class, org.wsdetach.demo.EchoEndpoint.class,
                ServerFixture.class, DemoWarDeploymentTest.class));
        // The test's class path is no standalone Tomcat's lib: scan the WAR only.
        ((StandardJarScanner) context.getJarScanner()).setScanClassPath(false);
        try {
            tomcat.start();
        } catch (Exception | Error e) {
            undeploy();
            throw e;
        }
        assertThat(context.getState()).as("the web application started").isEqualTo(LifecycleState.STARTED);
        echo = URI.create("ws://127.0.0.1:" + connector.getLocalPort() + CONTEXT_PATH + "/echo");
    }

    /** Stops Tomcat and deletes its directory, the expanded WAR in it; once, whether the start failed or not. */
    @AfterAll
    static void undeploy() throws Exception {
        try {
            if (tomcat != null) {
                tomcat.stop();
                tomcat.destroy();
            }
        } finally {
            tomcat = null;
            if (baseDirectory != null) {
                try (Stream<Path> files = Files.walk(baseDirectory)) {
                    for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                        Files.deleteIfExists(file);
                    }
                }
                baseDirectory = null;
            }
        }
    }

    @Test
    void theWarHoldsTheEndpointAndWsdetachsJarsOnly() throws IOException {
        try (ZipFile war = new ZipFile(WAR.toFile())) {
            List<String> libraries = new ArrayList<>();
            List<String> classes = new ArrayList<>();
            for (ZipEntry entry : Collections.list(war.entries())) {
                String name = entry.getName();
                if (name.startsWith("WEB-INF/lib/") && !entry.isDirectory()) {
                    libraries.add(name.substring("WEB-INF/lib/".length()));
                } else if (name.startsWith("WEB-INF/classes/") && name.endsWith(".class")) {
                    classes.add(name.substring("WEB-INF/classes/".length()));
                    // A class naming Tyrus, Tomcat or Jetty would not be container-neutral (class names in the
                    // constant pool are plain ASCII).
                    String bytes = new String(war.getInputStream(entry).readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertThat(bytes).as(name).doesNotContain("org/glassfish/", "org/apache/", "org/eclipse/jetty/");
                }
            }
            // wsdetach-jetty is for Jetty, which deploys the same WAR; on Tomcat its initializer does nothing.
            assertThat(libraries).hasSize(4).anyMatch(jar -> jar.matches("wsdetach-spi-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-core-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-tomcat-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-jetty-.+\\.jar"));
            assertThat(classes).contains("org/wsdetach/demo/EchoEndpoint.class", "org/wsdetach/demo/RawEcho.class")
                    .doesNotContain("org/wsdetach/demo/Main.class", "org/wsdetach/demo/DemoServer.class",
                            "org/wsdetach/demo/TomcatServer.class", "org/wsdetach/demo/JettyServer.class",
                            "org/wsdetach/demo/SelfTest.class");
            assertThat(war.getEntry("WEB-INF/web.xml")).as("no web.xml: the annotations say it all").isNull();
        }
    }

    @Test
    void wsdetachAndTheEndpointAreTheWarsOwnLoadedByTheWebApplication() throws Exception {
        ClassLoader webapp = context.getLoader().getClassLoader();
        for (String name : List.of("org.wsdetach.demo.EchoEndpoint", "org.wsdetach.demo.RawEcho",
                "org.wsdetach.Detach", "org.wsdetach.core.DetachableConnection",
                "org.wsdetach.tomcat.DetachInitializer", "org.wsdetach.tomcat.TomcatDetachProvider")) {
            Class<?> loaded = webapp.loadClass(name);
            assertThat(loaded.getClassLoader()).as(name).isSameAs(webapp);
            assertThat(loaded.getProtectionDomain().getCodeSource().getLocation().toString()).as(name)
                    .contains(CONTEXT_PATH + "/WEB-INF/");
        }
        // The initializer that ran is the WAR's: its filter, registered by the name DetachInitializer gives it.
        FilterDef filter = context.findFilterDef("wsdetach");
        assertThat(filter).as("DetachInitializer ran").isNotNull();
        assertThat(filter.getFilter().getClass().getClassLoader()).isSameAs(webapp);
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
     * whose classes and resources (their {@code META-INF/services} above all) it hides, as a standalone Tomcat's
     * common loader has none of them.
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
