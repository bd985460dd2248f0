package org.wsdetach.it;

class TomcatConnectionTest extends ConnectionConformance {
    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
