package org.wsdetach.it;

class TomcatLocalDetachTest extends LocalDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}
