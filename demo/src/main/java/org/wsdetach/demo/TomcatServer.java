package org.wsdetach.demo;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.websocket.server.WsSci;
import org.wsdetach.tomcat.DetachInitializer;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * An embedded Apache Tomcat serving WebSocket endpoints at context "/", with wsdetach or without: the way an
 * application embeds Tomcat, {@link WsSci} registering the endpoints and {@link DetachInitializer} making their
 * sessions detachable.
 */
public final class TomcatServer implements AutoCloseable {

    /** Tomcat's default connector, the one wsdetach takes connections over from. */
    public static final String NIO = "org.apache.coyote.http11.Http11NioProtocol";

    private final Tomcat tomcat;
    private final Path baseDirectory;

    private TomcatServer(Tomcat tomcat, Path baseDirectory) {
        this.tomcat = tomcat;
        this.baseDirectory = baseDirectory;
    }

    /**
     * Starts Tomcat's NIO connector on {@code host} and {@code port} (0 for any free port).
     *
     * @param tls       the server's TLS context ({@code wss}), or null for plain {@code ws}
     * @param detach    whether the sessions can be detached (false: Tomcat exactly as it is)
     * @param endpoints the {@code @ServerEndpoint} classes
     * @throws LifecycleException if Tomcat cannot start, for example because the port is taken, or if the web
     *                            application does not (Tomcat logs why)
     */
    public static TomcatServer start(String host, int port, SSLContext tls, boolean detach, Class<?>... endpoints)
            throws LifecycleException, IOException {
        return start(host, port, tls, detach, NIO, Map.of(), endpoints);
    }

    /**
     * As {@link #start(String, int, SSLContext, boolean, Class[])}, on the connector of {@code protocol} with
     * {@code connectorProperties} set on it.
     */
    public static TomcatServer start(String host, int port, SSLContext tls, boolean detach, String protocol,
                                     Map<String, String> connectorProperties, Class<?>... endpoints)
            throws LifecycleException, IOException {
        keepCatalinaHome();
        Path baseDirectory = Files.createTempDirectory("wsdetach-tomcat");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDirectory.toString());
        Connector connector = new Connector(protocol);
        connector.setPort(port);
        connector.setProperty("address", host);
        connectorProperties.forEach(connector::setProperty);
        connector.setThrowOnFailure(true);
        if (tls != null) {
            secure(connector, tls);
        }
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", baseDirectory.toString());
        // Tomcat runs filters, its WebSocket filter among them, only for requests that map to a servlet.
        Tomcat.addServlet(context, "none", new NotFoundServlet());
        context.addServletMappingDecoded("/", "none");
        context.addServletContainerInitializer(new WsSci(), Set.of(endpoints));
        if (detach) {
            context.addServletContainerInitializer(new DetachInitializer(), null);
        }
        TomcatServer server = new TomcatServer(tomcat, baseDirectory);
        try {
            tomcat.start();
        } catch (LifecycleException | RuntimeException e) {
            server.close();
            throw e;
        }
        if (context.getState() != LifecycleState.STARTED) {
            // Tomcat logs why a web application failed, stops it and goes on serving without it: a failed start here.
            server.close();
            throw new LifecycleException("the web application did not start; Tomcat's log says why");
        }
        return server;
    }

    /**
     * Gives the JVM a {@code catalina.home} that outlives every server, unless it has one. Otherwise the first
     * embedded Tomcat makes its base directory the JVM's {@code catalina.home} for good, and every later one,
     * finding that directory deleted by {@link #close()}, creates it again, empty, and leaves it behind.
     */
    private static synchronized void keepCatalinaHome() throws IOException {
        if (System.getProperty("catalina.home") == null) {
            Path home = Files.createTempDirectory("wsdetach-tomcat-home");
            // Tomcat writes nothing there: empty, it goes when the JVM exits.
            home.toFile().deleteOnExit();
            System.setProperty("catalina.home", home.toString());
        }
    }

    private static void secure(Connector connector, SSLContext tls) {
        connector.setSecure(true);
        connector.setScheme("https");
        connector.setProperty("SSLEnabled", "true");
        SSLHostConfig host = new SSLHostConfig();
        SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
        certificate.setSslContext(new GivenSslContext(tls));
        host.addCertificate(certificate);
        connector.addSslHostConfig(host);
    }

    /** @return the bound port */
    public int port() {
        return tomcat.getConnector().getLocalPort();
    }

    /** @return Tomcat's connector, for example to stop it alone */
    public Connector connector() {
        return tomcat.getConnector();
    }

    /** Stops Tomcat and deletes its working directory. */
    @Override
    public void close() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            throw new IllegalStateException("Tomcat did not stop", e);
        } finally {
            delete(baseDirectory);
        }
    }

    private static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class NotFoundServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
        }
    }

    /** Tomcat's view of an {@link SSLContext} made elsewhere: Tomcat otherwise builds its own from key files. */
    private static final class GivenSslContext implements org.apache.tomcat.util.net.SSLContext {
        private final SSLContext context;

        GivenSslContext(SSLContext context) {
            this.context = context;
        }

        @Override
        public void init(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random) {
            // Initialised already.
        }

        @Override
        public void destroy() {
        }

        @Override
        public SSLSessionContext getServerSessionContext() {
            return context.getServerSessionContext();
        }

        @Override
        public SSLEngine createSSLEngine() {
            return context.createSSLEngine();
        }

        @Override
        public SSLServerSocketFactory getServerSocketFactory() {
            return context.getServerSocketFactory();
        }

        @Override
        public SSLParameters getSupportedSSLParameters() {
            return context.getSupportedSSLParameters();
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[0];
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
