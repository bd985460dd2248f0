package org.wsdetach.it;

class TyrusPeerDetachTest extends PeerDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }
}
