/**
 * The one place that parses nothing and serves everything: @hono/node-server turns each
 * translated Node request (and WebSocket upgrade) into a Fetch Request for the dispatcher.
 * @module
 */
import { createAdaptorServer, getRequestListener } from '@hono/node-server'
import type { WebSocketServerLike } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import type { IncomingMessage, Server } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import { noteUpgradeStatus } from './upgrade-log'

/** node-server's adaptor with a `ws` server for `upgradeWebSocket`, driven by `emit`. */
export interface AppServer {
  /** Receives `request` events of already-translated requests. */
  readonly server: Server
  /** Serve an already-translated HTTP/2 request. */
  serveHttp2(request: Http2ServerRequest, response: Http2ServerResponse): void
  /** Hand over an already-translated WebSocket upgrade; `close()` ends its socket. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /** End every upgraded socket, and close the WebSocket server if it is our own. */
  close(): void
}

/**
 * Create the adaptor. It never listens: the proxy's listener translates each request in place
 * and re-emits it here, so node-server's own request and upgrade handling (lazy Request, abort
 * on disconnect, `upgradeWebSocket`) runs on what the app should see. `wss` is the user's
 * `ProxyOptions.websocket.server`; without one, a `ws` server with its defaults, as a plain
 * `serve()` with `new WebSocketServer({ noServer: true })` would have.
 */
export function createAppServer(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  wss?: WebSocketServerLike
): AppServer {
  const websocketServer = wss ?? new WebSocketServer({ noServer: true })
  const server = createAdaptorServer({ fetch, websocket: { server: websocketServer } }) as Server
  // Upgraded sockets leave the HTTP server's bookkeeping, so server.close() would wait for them
  // for ever: keep them here to end them on close.
  const upgraded = new Set<Duplex>()
  // node-server announces each accepted WebSocket on the server: its handshake was answered 101.
  websocketServer.on('connection', (_ws, request) => {
    noteUpgradeStatus(request, 101)
  })
  const http2Listener = getRequestListener(fetch)
  return {
    server,
    serveHttp2(request, response) {
      void http2Listener(request, response)
    },
    upgrade(request, socket, head) {
      upgraded.add(socket)
      socket.once('close', () => upgraded.delete(socket))
      server.emit('upgrade', request, socket, head)
    },
    close() {
      for (const socket of upgraded) {
        socket.destroy()
      }
      upgraded.clear()
      // A server the user gave may serve others too (their own serve()); it stays theirs.
      if (!wss) {
        websocketServer.close()
      }
    },
  }
}
