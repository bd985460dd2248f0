package org.wsdetach.it;

import java.util.List;

/** The demo's jar with {@code --container tyrus}, its default. */
class DemoCommandLineOnTyrusTest extends DemoCommandLineConformance {

    @Override
    protected String container() {
        return "tyrus";
    }

    @Override
    protected String startUpLog() {
        return "org.glassfish.tyrus";
    }

    @Override
    protected String notFoundMark() {
        return "Grizzly";
    }

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }

    @Override
    protected List<String> takenPortError() {
        return List.of("DeploymentException");
    }
}
