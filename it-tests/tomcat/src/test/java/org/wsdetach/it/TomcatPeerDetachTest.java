package org.wsdetach.it;

class TomcatPeerDetachTest extends PeerDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
