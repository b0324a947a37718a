/**
 * A bound on pipelining. Node's HTTP server parses every request a client pipelines, however
 * many wait unanswered (it stops reading only while the client does not read its responses):
 * behind a resolver or an app slow to answer, each waiting request holds a few kilobytes, and one
 * client sending requests without pause would grow the process without limit. Once
 * {@link MAX_WAITING} pipelined requests wait on a connection, the proxy stops reading it, as
 * Node does for a client that does not read, until the answers catch up.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Pipelined requests a connection may have waiting behind the response in progress before it is
 * read no further. No browser pipelines; the clients that do keep far fewer in flight.
 */
export const MAX_WAITING = 128

/** Node's own state on an HTTP server's socket, which its pause for slow readers uses too. */
type HttpSocket = Duplex & {
  _httpMessage?: ServerResponse | null
  _paused?: boolean
  parser?: { pause(): void; resume(): void } | null
}

/** How many requests wait on each connection behind the response in progress. */
const waiting = new WeakMap<Duplex, number>()

/** A waiting request was answered (or its client went): read on once few enough wait. */
function answered(this: ServerResponse): void {
  const socket = this.req.socket as HttpSocket
  const count = (waiting.get(socket) ?? 1) - 1
  waiting.set(socket, count)
  // Node's pause for a client that does not read its responses stays Node's to lift.
  if (count < MAX_WAITING && socket._paused && !socket.writableNeedDrain && !socket.destroyed) {
    socket._paused = false
    socket.parser?.resume()
    socket.resume()
  }
}

/**
 * Count `req` among its connection's waiting requests until `res` is answered, and stop reading
 * the connection while too many wait. A request with no response in progress before it (every
 * request of a client that does not pipeline) costs one property read.
 */
export function countPipelined(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as HttpSocket
  if (!socket._httpMessage || socket._httpMessage === res) {
    return
  }
  const count = (waiting.get(socket) ?? 0) + 1
  waiting.set(socket, count)
  res.once('close', answered)
  if (count >= MAX_WAITING && !socket._paused) {
    // As Node pauses it: the parser stops once the bytes already read are parsed.
    socket._paused = true
    socket.pause()
  }
}
