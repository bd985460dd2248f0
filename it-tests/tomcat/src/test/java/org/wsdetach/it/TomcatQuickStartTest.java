package org.wsdetach.it;

import jakarta.servlet.http.HttpServlet;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.websocket.server.WsSci;
import org.wsdetach.quickstart.EchoEndpoint;
import org.wsdetach.tomcat.DetachInitializer;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/** The README's quick start on embedded Tomcat (11, and 10.1 in it-tests/tomcat10). */
class TomcatQuickStartTest extends QuickStartConformance {

    private Tomcat tomcat;
    private Path baseDirectory;

    @Override
    protected int startQuickStartServer() throws Exception {
        // Otherwise the first Tomcat of the JVM makes its base directory catalina.home for good, and every later
        // Tomcat creates that directory again once this one has deleted it.
        if (System.getProperty("catalina.home") == null) {
            System.setProperty("catalina.home", Path.of("target").toAbsolutePath().toString());
        }
        // README: tomcat-server
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("tomcat").toString());
        Connector connector = new Connector();           // NIO, Tomcat's default: the connector wsdetach supports
        connector.setProperty("address", "127.0.0.1");
        connector.setPort(0);                            // any free port
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", null);
        // Tomcat runs its WebSocket filter only for requests that map to a servlet: map one to "/".
        Tomcat.addServlet(context, "none", new HttpServlet() { });
        context.addServletMappingDecoded("/", "none");
        context.addServletContainerInitializer(new WsSci(), Set.of(EchoEndpoint.class));
        context.addServletContainerInitializer(new DetachInitializer(), null);
        tomcat.start();
        int port = connector.getLocalPort();             // ws://127.0.0.1:<port>/echo
        // README: end
        this.tomcat = tomcat;
        this.baseDirectory = tomcat.getServer().getCatalinaBase().toPath();
        return port;
    }

    @Override
    protected void stopQuickStartServer() throws Exception {
        tomcat.stop();
        tomcat.destroy();
        try (Stream<Path> files = Files.walk(baseDirectory)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected String containerName() {
        return "Tomcat";
    }
}
