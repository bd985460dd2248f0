package org.wsdetach.it;

class TomcatFaultTest extends FaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
