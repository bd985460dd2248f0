package org.wsdetach.it;

/** {@link LocalDetachConformance} with a Tyrus client detaching and a byte-level server as its peer. */
class TyrusClientLocalDetachTest extends LocalDetachConformance {

    private final TyrusClientSide client = new TyrusClientSide();

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }

    @Override
    SocketPeer peer(String path) throws Exception {
        return client.connect(path);
    }
}
