package org.wsdetach.it;

class TyrusLocalDetachTest extends LocalDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
