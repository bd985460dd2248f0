package org.wsdetach.it;

class TomcatLoadTest extends LoadConformance {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
