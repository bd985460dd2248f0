package org.wsdetach.it;

class JettyLoadTest extends LoadConformance {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
