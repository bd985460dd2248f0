package org.wsdetach.it;

import org.apache.catalina.startup.Tomcat;
import org.wsdetach.Detach;
import org.wsdetach.demo.TomcatServer;
import org.wsdetach.tomcat.DetachInitializer;

import java.net.URI;

/**
 * Run by {@link TomcatModulePathTest} in a JVM of its own, wsdetach and Tomcat on the module path: the demo's
 * embedded Tomcat, {@code ws}, or {@code wss} with the argument {@code wss}, and a server-side detach
 * ({@link ModulePathDetach}). Prints the modules, then what the detach printed.
 */
public final class TomcatModulePathMain {

    private TomcatModulePathMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("modules " + Detach.class.getModule().getName() + " "
                + DetachInitializer.class.getModule().getName() + " " + Tomcat.class.getModule().getName());
        boolean tls = args.length > 0 && args[0].equals("wss");
        try (TomcatServer server = TomcatServer.start("127.0.0.1", 0, tls ? TestKey.server() : null, true,
                ModulePathDetach.Endpoint.class)) {
            ModulePathDetach.run(URI.create("ws://127.0.0.1:" + server.port() + "/detach"),
                    tls ? TestKey.client().getSocketFactory() : null);
        }
    }
}
