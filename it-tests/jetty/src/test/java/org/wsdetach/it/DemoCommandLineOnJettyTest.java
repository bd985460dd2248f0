package org.wsdetach.it;

import java.util.List;

/** The demo's jar with {@code --container jetty}: its Jetty is the jar's own ee10, whichever layer this module has. */
class DemoCommandLineOnJettyTest extends DemoCommandLineConformance {

    @Override
    protected String container() {
        return "jetty";
    }

    @Override
    protected String startUpLog() {
        // Jetty's start-up line, at INFO, through its SLF4J binding.
        return ":INFO :oejs.Server:main: jetty-12.1.";
    }

    @Override
    protected String notFoundMark() {
        return "Server: Jetty(12.";
    }

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }

    @Override
    protected List<String> takenPortError() {
        return List.of("Jetty did not start", "java.net.BindException");
    }
}
