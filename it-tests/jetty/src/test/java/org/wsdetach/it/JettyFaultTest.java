package org.wsdetach.it;

class JettyFaultTest extends FaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
