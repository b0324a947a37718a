/**
 * Stopping a server gracefully: accept nothing new, let the requests in flight finish, and close
 * each connection once it has nothing left to do.
 * @module
 */
import { once } from 'node:events'
import type { Server, ServerResponse } from 'node:http'

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
      // close() also closes the connections that are idle now (Node 19+).
      server.close()
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
