package org.wsdetach.it;

class TyrusLoadTest extends LoadConformance {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
