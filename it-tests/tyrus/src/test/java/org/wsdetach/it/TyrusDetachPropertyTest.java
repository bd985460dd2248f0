package org.wsdetach.it;

class TyrusDetachPropertyTest extends DetachPropertyConformance {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
