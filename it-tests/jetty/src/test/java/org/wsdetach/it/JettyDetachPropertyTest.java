package org.wsdetach.it;

class JettyDetachPropertyTest extends DetachPropertyConformance {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
