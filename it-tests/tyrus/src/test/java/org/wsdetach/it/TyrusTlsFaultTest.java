package org.wsdetach.it;

class TyrusTlsFaultTest extends TlsFaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
