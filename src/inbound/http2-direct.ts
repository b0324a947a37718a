/**
 * HTTP/2 sent straight to the proxy's port, with prior knowledge (`curl --http2-prior-knowledge`,
 * `http2.connect('http://proxy:port')`). The proxy serves HTTP/2 inside tunnels only: on its own
 * port a client must speak HTTP/1.1, where it sends proxy requests and CONNECT. Such a client
 * gets an answer it can read, in its own protocol: every stream it opens is answered
 * `505 HTTP Version Not Supported` with a one-line reason, and the session ends with GOAWAY.
 * @module
 */
import { constants, createServer } from 'node:http2'
import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { refuse } from '../admission/decision'
import type { LogRecord } from '../log/records'
import { beginRecord } from '../log/watch'
import type { ErrorContext } from '../types'

/** The client connection preface of HTTP/2 with prior knowledge (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

/** What every stream is told. */
export const DIRECT_HTTP2_REASON =
  'This port speaks HTTP/1.1; HTTP/2 is served inside CONNECT tunnels (ALPN h2 in TLS, or prior knowledge)'

/** Whether `first`, a connection's first bytes, begins the HTTP/2 preface. */
export function startsHttp2Preface(first: Buffer): boolean {
  // "PRI " is no HTTP/1.1 method a proxy serves: four bytes are enough to tell.
  const head = first.subarray(0, HTTP2_PREFACE.length)
  return head.length >= 4 && head.equals(HTTP2_PREFACE.subarray(0, head.length))
}

/**
 * Whether `first`, shorter than the four bytes {@link startsHttp2Preface} needs, begins as the
 * preface does: a client that sends its preface slowly is waited for, not taken for HTTP/1.
 */
export function mayBeginHttp2Preface(first: Buffer): boolean {
  return first.length < 4 && first.equals(HTTP2_PREFACE.subarray(0, first.length))
}

/** What the access record of a 505 is made from: the proxy's own answer, no path. */
const REFUSED = refuse(505, DIRECT_HTTP2_REASON)

/** Give the 505 on `stream` its access record once the stream closes, as any refusal has. */
function logRefusal(
  onLog: (record: LogRecord) => void,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  bytes: number
): void {
  const request = {
    method: headers[':method'],
    url: headers[':path'],
    httpVersion: '2.0',
    socket: stream.session?.socket ?? stream,
  }
  const finish = beginRecord(request, REFUSED, undefined)
  stream.once('close', () => {
    onLog(finish(505, bytes, stream.aborted, false))
  })
}

/** The answer to HTTP/2 on the proxy's port. */
export interface DirectHttp2 {
  /** Answer `socket`, whose unread bytes start with the preface. */
  refuse: (socket: Socket) => void
  /** End every session still open. */
  close: () => void
}

/**
 * Build the answer. A session that opens no stream within `timeoutMs` is closed, as a
 * connection that sends no request would be.
 */
export function createDirectHttp2(
  timeoutMs: number,
  onError: (error: Error, context: ErrorContext) => void,
  onLog: ((record: LogRecord) => void) | undefined
): DirectHttp2 {
  const server = createServer({ settings: { maxConcurrentStreams: 1, enablePush: false } })
  const sessions = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    session.setTimeout(timeoutMs, () => {
      session.destroy()
    })
  })
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {})
    const body = `${DIRECT_HTTP2_REASON}\n`
    if (onLog) {
      logRefusal(onLog, stream, headers, Buffer.byteLength(body))
    }
    stream.respond({
      ':status': 505,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    })
    stream.end(body)
    // GOAWAY after this stream: nothing else will be served here.
    stream.session?.close()
  })
  server.on('sessionError', (error: Error) => {
    onError(error, { phase: 'accept' })
  })
  return {
    refuse: (socket) => {
      socket.on('error', (error) => {
        onError(error, { phase: 'accept' })
      })
      // The session reads the socket itself, the bytes put back in front included.
      server.emit('connection', socket)
    },
    close: () => {
      for (const session of sessions) {
        // A session its client has just destroyed is gone, its 'close' still to come: goaway()
        // would throw, and proxy.close() stop halfway.
        if (!session.destroyed) {
          session.goaway(constants.NGHTTP2_NO_ERROR)
        }
        session.destroy()
      }
      sessions.clear()
    },
  }
}
