package org.wsdetach.core;

/** What became of a frame the container wrote: see {@link DetachableConnection#onContainerWrite}. */
public enum ContainerWrite {
    /** Written: the connection is still the container's. */
    WRITTEN,
    /**
     * Not written, to be reported to the container as written: a close frame of its own, while ours is
     * the one on the wire.
     */
    SWALLOWED,
    /** Not written, to be reported to the container as failed: nothing may follow our close frame. */
    REFUSED
}
