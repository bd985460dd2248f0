package org.wsdetach.it;

import java.util.List;

/** The demo's jar with {@code --container tomcat}; its Tomcat is the jar's own, whichever line this module has. */
class DemoCommandLineOnTomcatTest extends DemoCommandLineConformance {

    @Override
    protected String container() {
        return "tomcat";
    }

    @Override
    protected String startUpLog() {
        return "Starting Servlet engine: [Apache Tomcat/";
    }

    @Override
    protected String notFoundMark() {
        return "Apache Tomcat";
    }

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }

    @Override
    protected List<String> takenPortError() {
        return List.of("Tomcat did not start");
    }
}
