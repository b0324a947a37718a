/**
 * The first bytes of a new connection, read within a deadline, before the accept path knows who
 * takes the socket (PROXY protocol, SOCKS5, HTTP/2's refusal, TLS to the proxy, HTTP).
 * @module
 */
import type { Socket } from 'node:net'
import type { ErrorContext } from '../types'

/** What reading the first bytes needs from the accept options. */
export interface FirstBytesOptions {
  headerTimeoutMs: number
  onError: (error: Error, context: ErrorContext) => void
}

/** What a stage of the accept path does with the bytes, the end, and its deadline. */
export interface FirstBytes {
  data: (chunk: Buffer) => void
  end: () => void
  timeout: () => void
}

/**
 * Listen on a new connection's data and end until the returned function is called, within
 * `headerTimeoutMs`; an error closes the connection and goes to `onError` (Node's HTTP server
 * has not put its own error listener on yet). `end` and `timeout` are called after the
 * listeners are off.
 */
export function readFirst(socket: Socket, options: FirstBytesOptions, on: FirstBytes): () => void {
  const done = () => {
    clearTimeout(timer)
    socket.off('data', on.data)
    socket.off('end', onEnd)
    socket.off('error', onError)
  }
  const onEnd = () => {
    done()
    on.end()
  }
  const onError = (error: Error) => {
    done()
    options.onError(error, { phase: 'accept' })
    socket.destroy()
  }
  const timer = setTimeout(() => {
    done()
    on.timeout()
  }, options.headerTimeoutMs)
  socket.on('data', on.data)
  socket.on('end', onEnd)
  socket.on('error', onError)
  return done
}
