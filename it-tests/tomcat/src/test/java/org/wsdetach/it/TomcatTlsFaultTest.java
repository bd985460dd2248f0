package org.wsdetach.it;

class TomcatTlsFaultTest extends TlsFaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
