package org.wsdetach.it;

class JettyTlsFaultTest extends TlsFaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}
