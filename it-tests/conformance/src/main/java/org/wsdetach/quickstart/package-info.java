/**
 * The README's quick start, compiled and run on every container so that it cannot rot: the endpoint, a handler
 * with non-blocking I/O and one with blocking streams on a thread of its own. The lines between
 * {@code // README:} markers are the README's, checked by {@code ReadmeQuickStartTest}.
 */
package org.wsdetach.quickstart;
