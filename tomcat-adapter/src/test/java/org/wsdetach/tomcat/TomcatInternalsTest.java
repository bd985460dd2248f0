package org.wsdetach.tomcat;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TomcatInternalsTest {

    @Test
    void everyMemberTheAdapterUsesIsWhereItExpectsIt() {
        assertThat(TomcatInternals.unresolved()).isEmpty();
        assertThatCode(TomcatInternals::check).doesNotThrowAnyException();
    }

    @Test
    void aMissingMemberMakesDetachUnsupportedWithAMessageThatNamesIt() {
        assertThatThrownBy(() -> TomcatInternals.checkNoneMissing(List.of("WsFrameBase.inputBuffer", "WsFrameBase.state")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("wsdetach-tomcat cannot detach on Apache Tomcat/11.0.27: it lacks WsFrameBase.inputBuffer,"
                        + " WsFrameBase.state (Tomcat 10.1 and 11 have them)");
    }
}
