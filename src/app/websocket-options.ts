/**
 * The checks of the WebSocket options: the user's own `ws` server, or the message limit of the
 * proxy's own.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { describe } from '../admission/target'
import { OptionsError } from '../errors'
import type { ProxyOptions } from '../types'

/** The default `websocketMaxPayload`: 8 MiB (see `ProxyOptions.websocketMaxPayload`). */
export const DEFAULT_WEBSOCKET_MAX_PAYLOAD = 8 * 1024 * 1024

/** The user's `websocket.server`, checked; `undefined` when none was given. */
export function websocketOption(
  websocket: ProxyOptions['websocket']
): WebSocketServerLike | undefined {
  if (websocket === undefined) {
    return undefined
  }
  // Checked as what a JavaScript caller may pass, not as what the type promises.
  const server = (websocket as { server?: { handleUpgrade?: unknown; options?: unknown } } | null)
    ?.server
  const serverOptions = server?.options as { noServer?: unknown } | undefined
  if (typeof server?.handleUpgrade !== 'function' || serverOptions?.noServer !== true) {
    throw new OptionsError(
      'websocket.server must be a ws WebSocketServer made with { noServer: true }: the proxy hands it the upgrades'
    )
  }
  return websocket.server
}

/** The largest message the proxy's own WebSocket server takes, checked. */
export function websocketMaxPayloadOption(options: ProxyOptions): number {
  const value = options.websocketMaxPayload
  if (value !== undefined && options.websocket !== undefined) {
    throw new OptionsError(
      "websocketMaxPayload applies to the proxy's own WebSocket server; give your websocket.server its maxPayload instead"
    )
  }
  const result = value ?? DEFAULT_WEBSOCKET_MAX_PAYLOAD
  if (!Number.isSafeInteger(result) || result < 1) {
    throw new OptionsError(
      `websocketMaxPayload must be a whole number of bytes >= 1, got ${describe(value)}`
    )
  }
  return result
}
