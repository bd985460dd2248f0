package org.wsdetach.it;

class TomcatTlsDetachTest extends TlsDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
