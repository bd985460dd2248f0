package org.wsdetach.it;

class JettyTlsDetachTest extends TlsDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
