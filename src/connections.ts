/**
 * The open tunnels: the keep-alive budget they share, and closing them all at once.
 * @module
 */
import type { Duplex } from 'node:stream'

/** Tracks open tunnels; stateful and long-lived, so it has a `closeAll()`. */
export class Connections {
  readonly #tunnels = new Set<Duplex>()
  readonly #keepaliveMax: number

  /** @param keepaliveMax see `ProxyOptions.keepaliveMax` */
  constructor(keepaliveMax: number) {
    this.#keepaliveMax = keepaliveMax
  }

  /** Track `socket` until it closes. */
  add(socket: Duplex): void {
    this.#tunnels.add(socket)
    socket.once('close', () => this.#tunnels.delete(socket))
  }

  /** How many tunnels are open. */
  get size(): number {
    return this.#tunnels.size
  }

  /** Whether a response inside a tunnel should ask the client to close it. */
  shouldClose(): boolean {
    const max = this.#keepaliveMax
    return max === -1 || (max > 0 && this.#tunnels.size > max)
  }

  /** Destroy every open tunnel. */
  closeAll(): void {
    for (const socket of this.#tunnels) {
      socket.destroy()
    }
    this.#tunnels.clear()
  }
}
