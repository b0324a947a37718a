/**
 * HTTP/2 inside tunnels: TLS sockets whose client chose `h2` by ALPN, and plain tunnels whose
 * client starts with the HTTP/2 preface, are fed to one Node HTTP/2 server. Each stream is
 * admitted as an HTTP/1.1 request inside the same tunnel would be, then served by the same app
 * through @hono/node-server.
 * @module
 */
import { constants, createServer } from 'node:http2'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session, Settings } from 'node:http2'
import type { Duplex } from 'node:stream'
import type { TunnelIdentity } from '../admission/decision'
import type { Gate } from '../admission/gate'
import type { AppServer } from '../app/app-server'
import { rewriteRequest } from '../app/rewrite'
import type { LogRecord } from '../log/records'
import { watchRequest } from '../log/watch'
import type { ErrorContext } from '../types'
import type { Way } from './answer'
import { answerUnlessGone, answerWhenAdmitted } from './answer'
import { manageSession, SESSION_CLOSE_GRACE_MS } from './http2-lifecycle'
import type { SessionLifecycle } from './http2-lifecycle'
import { reply } from './replies'

/**
 * What every session advertises. Concurrent streams are capped (Node's default is unlimited),
 * header lists are bounded as HTTP/1.1 header sizes are, server push is off, and extended
 * CONNECT (RFC 8441, WebSockets over h2) is not advertised: `ws` accepts only HTTP/1.1
 * upgrades, so browsers open their WebSockets over a separate HTTP/1.1 tunnel.
 */
export const HTTP2_SETTINGS: Settings = {
  maxConcurrentStreams: 100,
  maxHeaderListSize: 64 * 1024,
  enablePush: false,
  enableConnectProtocol: false,
}

/**
 * Limits on what one session may cost. Node counts the streams it refuses itself
 * (`maxSessionRejectedStreams`) and invalid frames, and ends a session that passes either.
 * Against rapid reset (CVE-2023-44487), nghttp2 ends a session after 1000 resets in a burst,
 * and streams are answered only once their read is done (`onStream`).
 */
const SESSION_LIMITS = {
  maxSessionMemory: 10, // MB, Node's default, stated
  maxHeaderListPairs: 128,
  maxOutstandingPings: 10,
  maxSettings: 32,
  maxSessionRejectedStreams: 100,
  maxSessionInvalidFrames: 1000,
}

/** The HTTP/2 server of a proxy. */
export interface Http2Front {
  /** How many sessions are open. */
  readonly sessionCount: number
  /**
   * Serve `socket`, a TLS socket that chose h2 or a plain one that sent the preface; `raw` is
   * the TCP socket under a TLS one (or `socket` itself). A request body has `requestTimeoutMs`
   * from its stream's start to arrive whole, as the HTTP/1 server that took the tunnel gives one.
   */
  serve(socket: Duplex, tunnel: TunnelIdentity, raw: Duplex, requestTimeoutMs: number): void
  /** Send GOAWAY on every session: idle ones end now, the others once their streams are done. */
  drain(): void
  /**
   * Send GOAWAY on every session, cutting the streams still open, and resolve once they have
   * ended; a client that does not take the GOAWAY has {@link SESSION_CLOSE_GRACE_MS}.
   */
  close(): Promise<void>
}

/** What the HTTP/2 front needs from the proxy. */
export interface Http2Deps {
  gate: Gate
  appServer: AppServer
  onError: (error: Error, context: ErrorContext) => void
  onLog: ((record: LogRecord) => void) | undefined
  /** When sessions end: idle timeout, keep-alive budget. */
  lifecycle: SessionLifecycle
}

/**
 * A session's tunnel, the socket it reads (TLS or plain), the TCP socket under it, and the time
 * a request body has to arrive (the HTTP/1 server's `requestTimeout`; 0: none).
 */
interface Served {
  tunnel: TunnelIdentity
  socket: Duplex
  raw: Duplex
  requestTimeoutMs: number
}

/** Build the HTTP/2 front. */
export function createHttp2Front(deps: Http2Deps): Http2Front {
  const { gate, appServer, onError, onLog, lifecycle } = deps
  const server = createServer({ ...SESSION_LIMITS, settings: HTTP2_SETTINGS })
  const sessions = new Map<Http2Session, Served>()
  // 'session' is emitted while serve() hands the socket over, so the tunnel is known then.
  let arriving: Served | undefined

  server.on('session', (session: Http2Session) => {
    if (!arriving) {
      session.destroy()
      return
    }
    sessions.set(session, arriving)
    session.once('close', () => sessions.delete(session))
    manageSession(session, arriving.socket, arriving.raw, lifecycle)
  })
  server.on('sessionError', (error: Error) => {
    onError(error, { phase: 'request' })
  })

  const servedOf = (req: Http2ServerRequest) => {
    const session = req.stream.session
    return session && sessions.get(session)
  }
  // The tunnel of each stream, as it arrived: a stream its client cancelled while admission
  // decided no longer knows its session, and its record still names its tunnel.
  const arrivedIn = new WeakMap<Http2ServerRequest, TunnelIdentity>()

  const way: Way<Http2ServerRequest, Http2ServerResponse> = {
    decided: onLog
      ? (req, res, admission, gone) => {
          watchRequest(onLog, req, res, admission, arrivedIn.get(req), gone)
        }
      : undefined,
    serve(req, res, admission) {
      // Every request inside a tunnel is admitted as proxied: none passes through.
      if (admission.kind === 'serve') {
        rewriteRequest(req, admission)
      }
      appServer.serveHttp2(req, res, admission.kind === 'serve' ? admission.route : undefined)
    },
    reply(res, status, reason, headers, close) {
      reply(res, status, reason, headers)
      if (close) {
        // The request may still be sending (a body the proxy will not read, a CONNECT's own
        // stream): once the answer is out, the stream is closed with NO_ERROR, which tells the
        // client to stop (RFC 9113 §8.1). The session goes on.
        const { stream } = res
        stream.once('finish', () => {
          stream.close(constants.NGHTTP2_NO_ERROR)
        })
      }
    },
    // The client reset the stream, or its session went away.
    gone: (_req, res) => res.stream.destroyed,
  }

  // `Expect: 100-continue` is answered once the stream is admitted, as over HTTP/1.1.
  const continued: Way<Http2ServerRequest, Http2ServerResponse> = {
    decided: way.decided,
    serve(req, res, admission) {
      res.writeContinue()
      way.serve(req, res, admission)
    },
    reply: way.reply,
    gone: way.gone,
  }

  const onStream = (
    chosen: Way<Http2ServerRequest, Http2ServerResponse>,
    req: Http2ServerRequest,
    res: Http2ServerResponse
  ) => {
    const served = servedOf(req)
    if (!served) {
      res.stream.close(constants.NGHTTP2_REFUSED_STREAM)
      return
    }
    const { tunnel } = served
    bodyDeadline(req, res, served.requestTimeoutMs)
    if (onLog) {
      arrivedIn.set(req, tunnel)
    }
    const admission = gate.admitRequest(tunnel, req)
    if (admission instanceof Promise) {
      answerWhenAdmitted(chosen, req, res, admission, onError)
      return
    }
    // Answered once the bytes read with this stream's HEADERS have all been taken in: a client
    // that resets its streams as soon as it opens them (rapid reset, CVE-2023-44487) sends the
    // RST_STREAM in the same read, and the app never runs for a stream no one waits for.
    setImmediate(answerUnlessGone, chosen, req, res, admission)
  }
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    onStream(way, req, res)
  })
  server.on('checkContinue', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    onStream(continued, req, res)
  })
  // Node emits CONNECT streams here, and answers 405 itself (without a body, the stream left
  // open) when no one listens: the gate refuses them as any CONNECT inside a tunnel.
  server.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    onStream(way, req, res)
  })

  return {
    get sessionCount() {
      return sessions.size
    },
    serve(socket, tunnel, raw, requestTimeoutMs) {
      arriving = { tunnel, socket, raw, requestTimeoutMs }
      try {
        server.emit('connection', socket)
      } finally {
        arriving = undefined
      }
    },
    drain() {
      for (const session of sessions.keys()) {
        session.close()
      }
    },
    async close() {
      // A session that sent its GOAWAY already (drained, or ending) has had its time: it is cut.
      const open = [...sessions].filter(([session]) => !session.closed)
      const flushed = open.map(([session, { socket }]) => {
        // The GOAWAY is out once the session has ended, or has ended its socket's writing side.
        const done = new Promise((resolve) => {
          session.once('close', resolve)
          socket.once('finish', resolve)
        })
        // GOAWAY (NO_ERROR), then the socket ends once that is written. Streams still open are
        // cut, as close() cuts HTTP/1.1 requests in flight: a test's close() (startProxy) must
        // not wait on an endless event stream, and the CLI has drained before it closes.
        session.destroy()
        return done
      })
      let late: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(flushed),
        new Promise((resolve) => (late = setTimeout(resolve, SESSION_CLOSE_GRACE_MS))),
      ])
      clearTimeout(late)
      for (const { socket, raw } of sessions.values()) {
        socket.destroy()
        raw.destroy()
      }
      sessions.clear()
    },
  }
}

/** What a request whose body did not come whole in time is told. */
const BODY_TOO_LATE = 'The request body did not arrive in time'

/**
 * Cut a request whose body has not come whole within `ms` of its stream's start (its client sent
 * no END_STREAM), as Node's `requestTimeout` cuts an HTTP/1.1 request: `408` when no answer has
 * begun, a reset (CANCEL) when one has. A client that stops sending would otherwise hold its
 * stream, and an app that waits for the body, for as long as it answers the session's PINGs. A
 * body that came whole is never cut, however long the app then takes.
 */
function bodyDeadline(req: Http2ServerRequest, res: Http2ServerResponse, ms: number): void {
  const { stream } = req
  if (ms <= 0 || stream.endAfterHeaders) {
    return
  }
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.state.remoteClose) {
      return
    }
    if (res.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL)
      return
    }
    reply(res, 408, BODY_TOO_LATE)
    stream.once('finish', () => {
      stream.close(constants.NGHTTP2_NO_ERROR)
    })
  }, ms)
  timer.unref()
  stream.once('close', () => {
    clearTimeout(timer)
  })
}
