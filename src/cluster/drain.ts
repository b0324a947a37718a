/**
 * Stopping a server gracefully: accept nothing new, let the requests in flight finish, and close
 * each connection once it has nothing left to do.
 * @module
 */
import { once } from 'node:events'
import type { Server, ServerResponse } from 'node:http'

/**
 * What the proxies attached to a server close when it drains: connections it does not see as
 * idle, though they are (a tunnel whose client has sent nothing yet, an HTTP/2 session between
 * streams). Node's `closeIdleConnections` knows only the connections its HTTP parser reads.
 */
const idleClosers = new WeakMap<Server, Set<() => void>>()

/**
 * Call `closeIdle` when `server` starts draining; returns a function that stops that. A proxy
 * attached to a server registers here.
 */
export function onDrain(server: Server, closeIdle: () => void): () => void {
  let closers = idleClosers.get(server)
  if (!closers) {
    closers = new Set()
    idleClosers.set(server, closers)
  }
  closers.add(closeIdle)
  return () => {
    closers.delete(closeIdle)
  }
}

/** A server whose requests in flight are known, so that it can stop without cutting them. */
export interface Drainable {
  /**
   * Stop accepting, close idle connections, let each response in flight finish and then close
   * its connection. Resolves `true` once every connection is gone, or `false` after
   * `timeoutMs` with some still open (WebSockets, and tunnels between requests that are not
   * idle in Node's sense, stay until then).
   */
  drain: (timeoutMs: number) => Promise<boolean>
}

/**
 * Start tracking the responses of `server`; call it before the server takes requests. Inside
 * CONNECT tunnels too: their requests are parsed by the same server.
 */
export function drainable(server: Server): Drainable {
  const inFlight = new Set<ServerResponse>()
  let draining = false
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    if (draining) {
      closeAfter(res)
    }
  })
  return {
    drain: async (timeoutMs) => {
      draining = true
      const closed = once(server, 'close').then(() => true)
      // close() also closes the connections that are idle now (Node 19+); the proxy closes the
      // idle ones only it knows.
      server.close()
      for (const closeIdle of idleClosers.get(server) ?? []) {
        closeIdle()
      }
      for (const res of inFlight) {
        closeAfter(res)
      }
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, false)
      })
      try {
        return await Promise.race([closed, timedOut])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Close the connection of `res` once it is sent, rather than keep it alive for another. */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) {
    // Node then sends `Connection: close` and ends the connection after the response.
    res.shouldKeepAlive = false
    return
  }
  const socket = res.socket
  res.once('finish', () => {
    socket?.end()
  })
}
