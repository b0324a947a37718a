/**
 * Responses the proxy cut short: their client got less than the app meant to send, so the access
 * record says `aborted`, whatever Node's own state says once node-server has ended the response.
 * @module
 */
import { constants } from 'node:http2'

const CUT = Symbol('wsgiprox.cut')

/** Note that `res` was cut short: the client will not get all of its body. */
export function markCut(res: object): void {
  ;(res as { [CUT]?: true })[CUT] = true
}

/** Whether the proxy cut `res` short. */
export function wasCut(res: object): boolean {
  return (res as { [CUT]?: true })[CUT] === true
}

/**
 * End a response whose body cannot be completed, so that the client knows it is incomplete: an
 * HTTP/2 stream is reset with INTERNAL_ERROR (a reset with NO_ERROR, what destroying the
 * response sends, reads to Node's client as a clean end), an HTTP/1 connection is closed.
 */
export function cutShort(res: { destroy(error?: Error): unknown }): void {
  markCut(res)
  const { stream } = res as { stream?: { close(code: number): void; destroyed: boolean } }
  if (stream && !stream.destroyed) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    return
  }
  // Node corks an HTTP/1 response (Node 24: a chunked body's parts wait in it) and its connection
  // for a tick: what the app sent just before it failed goes out before the socket is destroyed.
  const corked = res as { writableCorked?: number; uncork?: () => void }
  while ((corked.writableCorked ?? 0) > 0 && corked.uncork) {
    corked.uncork()
  }
  const { socket } = res as { socket?: { writableCorked: number; uncork(): void } | null }
  while (socket && socket.writableCorked > 0) {
    socket.uncork()
  }
  res.destroy()
}
