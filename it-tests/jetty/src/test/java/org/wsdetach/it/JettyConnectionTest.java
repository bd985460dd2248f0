package org.wsdetach.it;

class JettyConnectionTest extends ConnectionConformance {
    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
