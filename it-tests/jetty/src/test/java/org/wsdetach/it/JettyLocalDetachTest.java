package org.wsdetach.it;

class JettyLocalDetachTest extends LocalDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
