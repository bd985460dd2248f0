package org.wsdetach.it;

class TyrusConnectionTest extends ConnectionConformance {
    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
