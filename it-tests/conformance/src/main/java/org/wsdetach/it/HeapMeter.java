package org.wsdetach.it;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/** The heap a leak or a buffer would grow: what is in use after garbage collection. */
final class HeapMeter {

    private HeapMeter() {
    }

    /** Bytes of heap in use after a few collections, until one frees nothing more. */
    static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long now = memory.getHeapMemoryUsage().getUsed();
            if (now >= used) {
                break;
            }
            used = now;
        }
        return used;
    }
}
