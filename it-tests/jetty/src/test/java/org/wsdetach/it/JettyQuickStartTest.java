package org.wsdetach.it;

import org.eclipse.jetty.server.Server;

/** The README's quick start on embedded Jetty (ee10, and ee11 in it-tests/jetty-ee11). */
class JettyQuickStartTest extends QuickStartConformance {

    private Server server;

    @Override
    protected int startQuickStartServer() throws Exception {
        JettyQuickStart.Started started = JettyQuickStart.start();
        server = started.server();
        return started.port();
    }

    @Override
    protected void stopQuickStartServer() throws Exception {
        server.stop();
    }

    @Override
    protected String containerName() {
        return "Jetty";
    }
}
