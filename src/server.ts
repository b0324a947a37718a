/**
 * The one place that parses nothing and serves everything: @hono/node-server turns each
 * translated Node request (and WebSocket upgrade) into a Fetch Request for the dispatcher.
 * @module
 */
import { createAdaptorServer } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import type { Server } from 'node:http'

/** node-server's adaptor with a `ws` server for `upgradeWebSocket`, driven by `emit`. */
export interface AppServer {
  /** Receives `request` and `upgrade` events of already-translated requests. */
  readonly server: Server
  close(): void
}

/**
 * Create the adaptor. It never listens: the proxy's listener translates each request in place
 * and re-emits it here, so node-server's own request and upgrade handling (lazy Request, abort
 * on disconnect, `upgradeWebSocket`) runs on what the app should see.
 */
export function createAppServer(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>
): AppServer {
  const wss = new WebSocketServer({ noServer: true })
  const server = createAdaptorServer({ fetch, websocket: { server: wss } }) as Server
  return {
    server,
    close() {
      wss.close()
    },
  }
}
