package org.wsdetach.it;

class TyrusFaultTest extends FaultConformance {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
