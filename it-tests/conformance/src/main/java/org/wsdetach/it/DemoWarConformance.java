package org.wsdetach.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoClient;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.text;

/**
 * The demo's WAR, {@code demo/target/wsdetach-demo.war}, deployed unchanged into a servlet container the way a
 * standalone one deploys {@code webapps/wsdetach-demo.war}: at {@code /wsdetach-demo}, with a web application
 * class loader whose parent ({@link ContainerOnlyClassLoader}) holds the container and nothing of wsdetach or the
 * demo. So everything of wsdetach that runs is the WAR's own: the container finds the adapter's
 * {@code DetachInitializer} through its jar's {@code META-INF/services}, the endpoint by scanning
 * {@code WEB-INF/classes}, and {@code Detach} its provider with {@code ServiceLoader} through the web
 * application's class loader; the detaches on the wire prove it. One subclass per servlet container.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DemoWarConformance {

    protected static final Path WAR = Path.of("..", "..", "demo", "target", "wsdetach-demo.war");
    /** As a standalone container names the context of {@code webapps/wsdetach-demo.war}. */
    protected static final String CONTEXT_PATH = "/" + WAR.getFileName().toString().replaceFirst("\\.war$", "");

    /** The container's directory for this deployment (where the WAR is unpacked), deleted afterwards. */
    protected Path workDirectory;
    private URI echo;

    /** The adapter's package, such as {@code org.wsdetach.tomcat}. */
    protected abstract String adapterPackage();

    /** The adapter's provider class, in {@link #adapterPackage()}. */
    protected abstract String providerClassName();

    /**
     * Deploys {@code war} at {@link #CONTEXT_PATH} on 127.0.0.1, an ephemeral port, working under
     * {@link #workDirectory}, with {@code containerOnly} as the parent of the web application's class loader; and
     * starts the container, failing if the application did not start.
     *
     * @return the port
     */
    protected abstract int deploy(Path war, ClassLoader containerOnly) throws Exception;

    /** Stops the container, if {@link #deploy} got as far as creating one; called once, whether it failed or not. */
    protected abstract void stopContainer() throws Exception;

    protected abstract ClassLoader webAppClassLoader();

    /** The filter the adapter's initializer registered, named {@code wsdetach}; null if there is none. */
    protected abstract Object detachFilter();

    @BeforeAll
    void deployTheWar() throws Exception {
        assertThat(WAR).as("built by the demo module's package phase").isRegularFile();
        workDirectory = Files.createTempDirectory("wsdetach-war");
        // If this fails, JUnit still runs undeploy().
        int port = deploy(WAR.toAbsolutePath(), new ContainerOnlyClassLoader(getClass().getClassLoader(),
                "org.wsdetach.Detach", "org.wsdetach.core.DetachableConnection",
                adapterPackage() + ".DetachInitializer", "org.wsdetach.demo.DemoClient",
                DemoWarConformance.class.getName(), getClass().getName()));
        echo = URI.create("ws://127.0.0.1:" + port + CONTEXT_PATH + "/echo");
    }

    @AfterAll
    void undeploy() throws Exception {
        try {
            stopContainer();
        } finally {
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

    protected URI echo() {
        return echo;
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
            // One WAR for both servlet containers: on each, the other's initializer does nothing.
            assertThat(libraries).hasSize(4).anyMatch(jar -> jar.matches("wsdetach-spi-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-core-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-tomcat-.+\\.jar"))
                    .anyMatch(jar -> jar.matches("wsdetach-jetty-.+\\.jar"));
            assertThat(classes).contains("org/wsdetach/demo/EchoEndpoint.class", "org/wsdetach/demo/RawEcho.class")
                    .doesNotContain("org/wsdetach/demo/Main.class", "org/wsdetach/demo/DemoServer.class",
                            "org/wsdetach/demo/TomcatServer.class", "org/wsdetach/demo/JettyServer.class",
                            "org/wsdetach/demo/SelfTest.class");
            assertThat(war.getEntry("WEB-INF/web.xml")).as("no web.xml: the annotations say it all").isNull();
            assertThat(Collections.list(war.entries()).stream().map(ZipEntry::getName))
                    .as("no container-specific descriptor either").noneMatch(name -> name.startsWith("WEB-INF/jetty")
                            || name.equals("META-INF/context.xml"));
        }
    }

    @Test
    void wsdetachAndTheEndpointAreTheWarsOwnLoadedByTheWebApplication() throws Exception {
        ClassLoader webapp = webAppClassLoader();
        for (String name : List.of("org.wsdetach.demo.EchoEndpoint", "org.wsdetach.demo.RawEcho",
                "org.wsdetach.Detach", "org.wsdetach.core.DetachableConnection",
                adapterPackage() + ".DetachInitializer", providerClassName())) {
            Class<?> loaded = webapp.loadClass(name);
            assertThat(loaded.getClassLoader()).as(name).isSameAs(webapp);
            // Unpacked from the WAR into this deployment's work directory.
            Path location = Path.of(loaded.getProtectionDomain().getCodeSource().getLocation().toURI());
            assertThat(location).as(name).startsWith(workDirectory.toRealPath());
            assertThat(location.toString()).as(name).contains("/WEB-INF/");
        }
        // The initializer that ran is the WAR's: its filter, registered by the name DetachInitializer gives it.
        Object filter = detachFilter();
        assertThat(filter).as("DetachInitializer ran").isNotNull();
        assertThat(filter.getClass().getClassLoader()).isSameAs(webapp);
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
        try (RawPeer peer = RawPeer.connect(echo)) {
            DemoProtocolConformance.assertRawBytesEchoedAfterTheDetach(peer, mode, size, false);
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
}
