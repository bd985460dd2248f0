package org.wsdetach.tyrus;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TyrusInternalsTest {

    @Test
    void everyPrivateFieldTheAdapterReadsIsWhereItExpectsIt() {
        assertThat(TyrusInternals.unresolved()).isEmpty();
    }

    @Test
    void aFieldThatIsNotThereMakesTheFeatureUnsupportedWithAMessageThatSaysWhatIsExpected() {
        assertThat(TyrusInternals.field(String.class, "noSuchField")).isNull();
        assertThatThrownBy(() -> TyrusInternals.read(TyrusInternals.field(String.class, "noSuchField"), "", "detach wss sessions"))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("wsdetach cannot detach wss sessions here: Tyrus 2.2.2 on Grizzly 4.0.2 is expected, with"
                        + " org.glassfish.tyrus.core and org.glassfish.tyrus.container.grizzly.client open to it on the"
                        + " module path");
    }
}
