package org.wsdetach.it;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.scan.StandardJarScanner;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo's WAR on Tomcat as a standalone Tomcat deploys it from {@code webapps/}: {@code Tomcat.addWebapp}
 * with the WAR file and the global {@code conf/web.xml}'s default servlet.
 */
class DemoWarOnTomcatTest extends DemoWarConformance {

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

    private Tomcat tomcat;
    private Context context;

    @Override
    protected String adapterPackage() {
        return "org.wsdetach.tomcat";
    }

    @Override
    protected String providerClassName() {
        return "org.wsdetach.tomcat.TomcatDetachProvider";
    }

    @Override
    protected int deploy(Path war, ClassLoader containerOnly) throws Exception {
        // The first Tomcat in a JVM makes its base directory the JVM's catalina.home for good, and later ones
        // create it again once deleted: as TomcatServer does, give the JVM one that stays (under target/).
        if (System.getProperty("catalina.home") == null) {
            System.setProperty("catalina.home",
                    Files.createDirectories(Path.of("target", "catalina-home").toAbsolutePath()).toString());
        }
        Files.createDirectories(workDirectory.resolve("webapps"));
        Path globalWebXml = Files.createDirectories(workDirectory.resolve("conf")).resolve("web.xml");
        Files.writeString(globalWebXml, GLOBAL_WEB_XML);
        tomcat = new Tomcat();
        tomcat.setBaseDir(workDirectory.toString());
        Connector connector = new Connector("org.apache.coyote.http11.Http11NioProtocol");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setThrowOnFailure(true);
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        // conf/web.xml, as in a standalone Tomcat, instead of the embedded defaults (which want Jasper too).
        tomcat.setAddDefaultWebXmlToWebapp(false);
        context = tomcat.addWebapp(CONTEXT_PATH, war.toString());
        // Named by its absolute path: Tomcat 10.1 embedded looks for conf/web.xml in the working directory.
        ((StandardContext) context).setDefaultWebXml(globalWebXml.toAbsolutePath().toString());
        context.setParentClassLoader(containerOnly);
        // The test's class path is no standalone Tomcat's lib: scan the WAR only.
        ((StandardJarScanner) context.getJarScanner()).setScanClassPath(false);
        tomcat.start();
        assertThat(context.getState()).as("the web application started").isEqualTo(LifecycleState.STARTED);
        return connector.getLocalPort();
    }

    @Override
    protected void stopContainer() throws Exception {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Override
    protected ClassLoader webAppClassLoader() {
        return context.getLoader().getClassLoader();
    }

    @Override
    protected Object detachFilter() {
        FilterDef filter = context.findFilterDef("wsdetach");
        return filter == null ? null : filter.getFilter();
    }
}
