/**
 * The sockets the HTTP server no longer tracks (CONNECTs, upgrades, tunnels): the keep-alive
 * budget the tunnels share, and closing them all at once.
 * @module
 */
import type { Server } from 'node:net'
import type { Duplex } from 'node:stream'

/** Tracks detached sockets and open tunnels; stateful and long-lived, so it has a `closeAll()`. */
export class Connections {
  readonly #sockets = new Set<Duplex>()
  readonly #tunnels = new Set<Duplex>()
  /** Tunnels whose client has sent nothing yet: idle, though no HTTP server knows them. */
  readonly #silent = new Set<Duplex>()
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
      this.#silent.delete(socket)
    })
  }

  /** Count `socket` as an open tunnel until it closes, silent until {@link spoke}. */
  add(socket: Duplex): void {
    this.track(socket)
    this.#tunnels.add(socket)
    this.#silent.add(socket)
  }

  /** The tunnel's client sent its first bytes: the server that parses them knows when it idles. */
  spoke(socket: Duplex): void {
    this.#silent.delete(socket)
  }

  /** Destroy the tunnels whose client has sent nothing yet (the server is draining). */
  closeSilent(): void {
    for (const socket of this.#silent) {
      socket.destroy()
    }
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
    this.#silent.clear()
  }
}

/**
 * The client connections open now on `servers`, as each counts them: every TCP connection it
 * accepted that is not closed yet, whether a tunnel, a SOCKS5 client, or idle between requests.
 */
export async function openConnections(servers: Iterable<Server>): Promise<number> {
  const counts = await Promise.all(
    Array.from(
      servers,
      (server) =>
        new Promise<number>((resolve) => {
          server.getConnections((error, count) => {
            resolve(error ? 0 : count)
          })
        })
    )
  )
  return counts.reduce((sum, count) => sum + count, 0)
}
