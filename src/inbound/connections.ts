/**
 * The sockets the HTTP server no longer tracks (CONNECTs, upgrades, tunnels): the keep-alive
 * budget the tunnels share, and closing them all at once.
 * @module
 */
import type { Duplex } from 'node:stream'

/** Tracks detached sockets and open tunnels; stateful and long-lived, so it has a `closeAll()`. */
export class Connections {
  readonly #sockets = new Set<Duplex>()
  readonly #tunnels = new Set<Duplex>()
  readonly #keepaliveMax: number

  /** @param keepaliveMax see `ProxyOptions.keepaliveMax` */
  constructor(keepaliveMax: number) {
    this.#keepaliveMax = keepaliveMax
  }

  /** Track `socket`, which left the HTTP server (a CONNECT or an upgrade), until it closes. */
  track(socket: Duplex): void {
    if (this.#sockets.has(socket)) {
      return
    }
    this.#sockets.add(socket)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#tunnels.delete(socket)
    })
  }

  /** Count `socket` as an open tunnel until it closes. */
  add(socket: Duplex): void {
    this.track(socket)
    this.#tunnels.add(socket)
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

  /** Destroy every tracked socket. */
  closeAll(): void {
    for (const socket of this.#sockets) {
      socket.destroy()
    }
    this.#sockets.clear()
    this.#tunnels.clear()
  }
}
