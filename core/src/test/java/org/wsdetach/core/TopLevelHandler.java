package org.wsdetach.core;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

/** A declared handler that is a top-level class, which no enclosing instance can be asked of. */
public class TopLevelHandler implements DetachHandler {
    @Override
    public void onDetached(DetachedConnection connection) {
    }
}
