/**
 * The provider SPI, for those who write a container adapter: {@link org.wsdetach.spi.DetachProvider}, which
 * {@link org.wsdetach.Detach} finds with {@link java.util.ServiceLoader}, and the container-neutral protocol
 * pieces every provider needs, {@link org.wsdetach.spi.FrameScanner} (frame boundaries from the headers alone)
 * and {@link org.wsdetach.spi.CloseFrames} (close frames and their payloads). Applications do not use it.
 */
package org.wsdetach.spi;
