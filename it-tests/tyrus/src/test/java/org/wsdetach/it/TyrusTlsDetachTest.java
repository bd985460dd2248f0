package org.wsdetach.it;

class TyrusTlsDetachTest extends TlsDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
