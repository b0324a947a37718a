/**
 * Pipelined requests are answered in order, also when one of them takes the connection over (a
 * CONNECT, an Upgrade) or is refused on the raw socket: what the proxy writes there waits until
 * every response queued before it has gone out.
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

type HttpSocket = Duplex & { _httpMessage?: ServerResponse | null }

/**
 * Run `next` once `socket` has no response in progress. Node queues the responses of pipelined
 * requests on the connection's parser state and hands the socket over at a CONNECT or an Upgrade
 * even while earlier responses are still being written: writing there at once would put a `200
 * Connection Established` or a refusal before them, and a new parser on the socket would queue
 * its responses behind ones the old state finishes without it (Node then asserts and throws).
 * `_httpMessage` is the response that owns the socket, cleared when the last one finishes. A
 * socket destroyed meanwhile runs `next` at once (it finds the socket destroyed).
 */
export function whenIdle(socket: Duplex, next: () => void): void {
  const pending = (socket as HttpSocket)._httpMessage
  if (!pending || socket.destroyed) {
    next()
    return
  }
  // Node removed its own 'drain' listener at the handover, and a response waiting for 'drain'
  // would wait for ever: pass the socket's on, as that listener did.
  const drain = () => {
    const owner = (socket as HttpSocket)._httpMessage
    if (owner?.writableNeedDrain) {
      owner.emit('drain')
    }
  }
  // Node's own 'finish' listener, added first, hands the socket to the next queued response.
  const again = () => {
    pending.off('finish', again)
    pending.off('close', again)
    socket.off('drain', drain)
    whenIdle(socket, next)
  }
  socket.on('drain', drain)
  pending.once('finish', again)
  pending.once('close', again)
}
