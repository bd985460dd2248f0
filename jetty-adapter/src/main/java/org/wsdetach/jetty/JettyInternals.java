package org.wsdetach.jetty;

import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.ssl.SslConnection;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The only place the adapter reads private state of Jetty: a {@code wss} hand-over takes the bytes Jetty's
 * {@link SslConnection} has read but not decrypted, and the plaintext it has decrypted but not handed out.
 * Both fields are resolved once; where they are not what the adapter expects, {@code wss} detaches fail with
 * {@link UnsupportedOperationException} before anything is sent.
 */
final class JettyInternals {

    private static final List<String> MISSING = new ArrayList<>();
    /** Whether the fields are there but Jetty's module does not open their package to this one. */
    private static boolean closedToUs;
    private static final Field ENCRYPTED_INPUT = field("_encryptedInput");
    private static final Field DECRYPTED_INPUT = field("_decryptedInput");

    private JettyInternals() {
    }

    /** The members this Jetty does not have as expected; empty on Jetty 12.1.14. */
    static List<String> unresolved() {
        return List.copyOf(MISSING);
    }

    /** @throws UnsupportedOperationException if a {@code wss} hand-over cannot read Jetty's TLS buffers */
    static void checkTlsHandOver() {
        if (closedToUs) {
            throw new UnsupportedOperationException("wsdetach-jetty cannot detach wss sessions here: Jetty's "
                    + "SslConnection is not open to it; on the module path, run with --add-opens "
                    + "org.eclipse.jetty.io/org.eclipse.jetty.io.ssl=" + JettyInternals.class.getModule().getName());
        }
        if (!MISSING.isEmpty()) {
            throw new UnsupportedOperationException("wsdetach-jetty cannot detach wss sessions on this Jetty: it lacks "
                    + String.join(", ", MISSING) + " (Jetty 12.1.14 has them)");
        }
    }

    /** The network bytes read and not yet decrypted, in read mode (a copy). */
    static ByteBuffer encryptedInput(SslConnection tls) {
        return copyOf(read(ENCRYPTED_INPUT, tls));
    }

    /** The plaintext decrypted and not yet handed out, in read mode (a copy). */
    static ByteBuffer decryptedInput(SslConnection tls) {
        return copyOf(read(DECRYPTED_INPUT, tls));
    }

    private static ByteBuffer copyOf(RetainableByteBuffer held) {
        if (held == null) {
            return ByteBuffer.allocate(0);
        }
        ByteBuffer bytes = held.getByteBuffer().duplicate();
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
        held.getByteBuffer().position(held.getByteBuffer().limit());
        return copy;
    }

    private static RetainableByteBuffer read(Field field, SslConnection tls) {
        checkTlsHandOver();
        try {
            synchronized (tls) {
                return (RetainableByteBuffer) field.get(tls);
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field field(String name) {
        try {
            Field field = SslConnection.class.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (java.lang.reflect.InaccessibleObjectException e) {
            closedToUs = true;
            return null;
        } catch (NoSuchFieldException | RuntimeException e) {
            MISSING.add("SslConnection." + name);
            return null;
        }
    }
}
