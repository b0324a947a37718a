/**
 * The CLI's own `ws` server for the proxy's WebSockets, kept so that stopping can close each
 * with 1001 "going away" instead of cutting it.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import type { ClosableWebSockets } from './shutdown'

/** A `ws` server as `createProxy`'s `websocket.server` takes it, whose clients can be closed. */
export function closableWebSockets(): WebSocketServerLike & ClosableWebSockets {
  return new WebSocketServer({ noServer: true })
}
