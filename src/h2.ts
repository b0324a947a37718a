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
import type { Admission, Gate, TunnelIdentity } from './admission'
import { toError } from './errors'
import type { LogRecord } from './log'
import { watchRequest } from './log'
import { challengeHeaders, reply } from './replies'
import type { AppServer } from './server'
import { rewriteRequest } from './translate'
import type { ErrorContext } from './types'

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
 * Limits on what one session may cost. Node counts streams refused or reset early
 * (`maxSessionRejectedStreams`) and invalid frames, and ends a session that passes either:
 * that is its defence against rapid reset (CVE-2023-44487).
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
  /** Serve `socket`, a TLS socket that chose h2 or a plain one that sent the preface. */
  serve(socket: Duplex, tunnel: TunnelIdentity): void
  /** Send GOAWAY on every session and end them. */
  close(): void
  /** How many sessions are open. */
  readonly sessionCount: number
}

/** What the HTTP/2 front needs from the proxy. */
export interface Http2Deps {
  gate: Gate
  appServer: AppServer
  onError: (error: Error, context: ErrorContext) => void
  onLog: ((record: LogRecord) => void) | undefined
}

/** Build the HTTP/2 front. */
export function createHttp2Front(deps: Http2Deps): Http2Front {
  const { gate, appServer, onError, onLog } = deps
  const server = createServer({ ...SESSION_LIMITS, settings: HTTP2_SETTINGS })
  const sessions = new Map<Http2Session, TunnelIdentity>()
  // 'session' is emitted while serve() hands the socket over, so the tunnel is known then.
  let arriving: TunnelIdentity | undefined

  server.on('session', (session: Http2Session) => {
    if (!arriving) {
      session.destroy()
      return
    }
    sessions.set(session, arriving)
    session.once('close', () => sessions.delete(session))
  })
  server.on('sessionError', (error: Error) => {
    onError(error, { phase: 'request' })
  })

  const serveStream = (
    req: Http2ServerRequest,
    res: Http2ServerResponse,
    admission: Admission,
    tunnel: TunnelIdentity
  ) => {
    if (onLog) {
      watchRequest(onLog, req, res, admission, tunnel, undefined)
    }
    switch (admission.kind) {
      case 'passthrough':
        reply(res, 400, 'Invalid request target')
        return
      case 'serve':
        rewriteRequest(req, admission)
        appServer.serveHttp2(req, res)
        return
      case 'challenge':
        reply(res, 407, 'Proxy authentication required', challengeHeaders(admission.realm))
        return
      case 'refuse':
        reply(res, admission.status, admission.message)
    }
  }

  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const session = req.stream.session
    const tunnel = session && sessions.get(session)
    if (!tunnel) {
      res.stream.close(constants.NGHTTP2_REFUSED_STREAM)
      return
    }
    const admission = gate.admitRequest(tunnel, req)
    if (admission instanceof Promise) {
      admission.then(
        (result) => {
          serveStream(req, res, result, tunnel)
        },
        (error: unknown) => {
          onError(toError(error), { phase: 'admission' })
          reply(res, 500, 'The proxy could not admit this request')
        }
      )
      return
    }
    serveStream(req, res, admission, tunnel)
  })

  return {
    serve(socket, tunnel) {
      arriving = tunnel
      try {
        server.emit('connection', socket)
      } finally {
        arriving = undefined
      }
    },
    close() {
      for (const session of sessions.keys()) {
        session.goaway(constants.NGHTTP2_NO_ERROR)
        session.destroy()
      }
      sessions.clear()
    },
    get sessionCount() {
      return sessions.size
    },
  }
}
