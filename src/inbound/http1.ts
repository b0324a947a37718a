/**
 * The hooks on a Node `http.Server`. Each request (absolute form, origin form, inside a tunnel)
 * and each upgrade is classified, admitted, and then answered by the proxy (400, 407, 421, 500)
 * or rewritten as admitted and handed to the app server. CONNECT goes to `connect.ts`.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { refuseServed } from '../admission/decision'
import type { AppServer } from '../app/app-server'
import { keepScheme, PASSTHROUGH, passthroughRewrite, rewriteRequest } from '../app/rewrite'
import { parseErrorRecord } from '../log/parse-error-record'
import { noteUpgradeStatus, watchUpgrade } from '../log/upgrade'
import { watchRequest } from '../log/watch'
import type { NormalizedOptions } from '../options'
import { andThen } from '../util/settled'
import { toHttpServer } from './accept'
import type { Way } from './answer'
import { answerWhenAdmitted, clientGone, upgradeClientGone } from './answer'
import { handleConnect } from './connect'
import type { Connections } from './connections'
import { notHttp1 } from './not-http1'
import { countPipelined } from './pipelining'
import { reply, replyOnSocket } from './replies'
import type { TunnelDeps } from './tunnel'
import { tunnelOf } from './tunnel'
import { readUpgradeBody, UPGRADE_BODY_MAX_BYTES } from './upgrade-body'
import { whenIdle } from './when-idle'

/** What the listener needs from the proxy. */
export interface ListenerDeps extends TunnelDeps {
  options: NormalizedOptions
  connections: Connections
  /** The adaptor server that runs the app for requests and WebSocket upgrades. */
  appServer: AppServer
}

/** With `enableWebsockets: false`, upgrades through the proxy get 501; direct ones are the app's. */
const WEBSOCKETS_OFF = 'WebSockets through this proxy are disabled'
const UPGRADE_BODY_TOO_LARGE = `A request with Upgrade and a body over ${UPGRADE_BODY_MAX_BYTES} bytes is not served; send it without Upgrade`

/** A WebSocket upgrade, as the `upgrade` event gives it. */
interface Upgrade {
  req: IncomingMessage
  socket: Duplex
  head: Buffer
}

/** Hook the proxy onto `server`; returns a function that unhooks it. */
export function installListener(server: Server, deps: ListenerDeps): () => void {
  const { options, connections, gate, appServer } = deps
  const log = options.onLog
  // Sockets an ignored Upgrade came on, given back to the server once already (see below).
  const replayed = new WeakSet<Duplex>()

  // The request path runs for every request: no closures are made per request on it.
  const requests: Way<IncomingMessage, ServerResponse> = {
    decided: log
      ? (req, res, admission, gone) => {
          watchRequest(log, req, res, admission, tunnelOf(req.socket), gone)
        }
      : undefined,
    serve(req, res, admission) {
      if (admission.kind === 'serve') {
        rewriteRequest(req, admission)
        keepScheme(req, admission.scheme, admission.host)
        appServer.serve(req, res, admission.route)
        return
      }
      rewriteRequest(req, passthroughRewrite(req))
      appServer.serve(req, res, undefined)
    },
    reply(res, status, reason, headers, close) {
      reply(res, status, reason, headers, close)
    },
    gone: (req) => clientGone(req.socket),
  }

  /** Admit `req` and answer it the way `way` says; inside a tunnel, keepaliveMax applies. */
  const admitAndAnswer = (
    way: Way<IncomingMessage, ServerResponse>,
    req: IncomingMessage,
    res: ServerResponse
  ) => {
    countPipelined(req, res)
    const tunnel = tunnelOf(req.socket)
    if (tunnel && connections.shouldClose()) {
      res.shouldKeepAlive = false
    }
    const admission = req.httpVersionMajor === 1 ? gate.admitRequest(tunnel, req) : notHttp1(req)
    answerWhenAdmitted(way, req, res, admission, options.onError)
  }
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    admitAndAnswer(requests, req, res)
  }

  // `Expect: 100-continue` is answered only once the request is admitted: a client is not told
  // to send a body the proxy is about to refuse (a 407 first, then the body it would not read).
  const continued: Way<IncomingMessage, ServerResponse> = {
    decided: requests.decided,
    serve(req, res, admission) {
      res.writeContinue()
      requests.serve(req, res, admission)
    },
    reply(res, status, reason, headers) {
      reply(res, status, reason, headers, true)
    },
    gone: requests.gone,
  }

  const onCheckContinue = (req: IncomingMessage, res: ServerResponse) => {
    admitAndAnswer(continued, req, res)
  }

  const upgrades: Way<IncomingMessage, Upgrade> = {
    decided: log
      ? (req, { socket }, admission, gone) => {
          watchUpgrade(log, req, socket, admission, tunnelOf(socket), gone)
        }
      : undefined,
    serve(req, { socket, head }, admission) {
      if (admission.kind === 'serve') {
        rewriteRequest(req, admission)
        keepScheme(req, admission.scheme, admission.host)
        appServer.upgrade(req, socket, head, admission.route)
        return
      }
      rewriteRequest(req, PASSTHROUGH)
      appServer.upgrade(req, socket, head, undefined)
    },
    reply({ req, socket }, status, reason, headers) {
      noteUpgradeStatus(req, status)
      replyOnSocket(socket, status, reason, headers)
    },
    gone: (_req, { socket }) => upgradeClientGone(socket),
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const tunnel = tunnelOf(socket)
    // A tunnel's socket already reports its errors (tunnel.ts); a direct one has no listener left
    // once Node hands it over for the upgrade. Once per socket, however many upgrades it carries.
    if (!tunnel && !replayed.has(socket)) {
      socket.on('error', (error) => {
        options.onError(error, { phase: 'upgrade' })
      })
      connections.track(socket)
    }
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      // Node hands every Upgrade here once an 'upgrade' listener exists, and node-server leaves
      // all but WebSocket unanswered; a server may ignore Upgrade (RFC 9110 §7.8), so serve it
      // as the request it also is (`curl --http2` asks for h2c this way, bodies included).
      replayed.add(socket)
      whenIdle(socket, () => {
        void readUpgradeBody(req).then((body) => {
          if (body.kind === 'failed') {
            if (body.tooLarge) {
              replyOnSocket(socket, 413, UPGRADE_BODY_TOO_LARGE)
            } else {
              socket.destroy()
            }
            return
          }
          replayWithoutUpgrade(
            server,
            req,
            socket,
            head,
            body.kind === 'read' ? body.body : undefined
          )
        })
      })
      return
    }
    // The handshake's answer (101, or a refusal) goes after the responses pipelined before it.
    whenIdle(socket, () => {
      const admitted = req.httpVersionMajor === 1 ? gate.admitRequest(tunnel, req) : notHttp1(req)
      // Refused as a decision, so the access log and the metrics see the proxy's own answer.
      const admission = options.enableWebsockets
        ? admitted
        : andThen(admitted, (decided) => refuseServed(decided, 501, WEBSOCKETS_OFF))
      answerWhenAdmitted(upgrades, req, { req, socket, head }, admission, options.onError)
    })
  }

  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(server, req, socket, head, deps)
  }

  const onClientError = (error: Error, socket: Duplex) => {
    const answered = answerParseError(error, socket)
    // A refusal is an answer too: it gets its access line.
    if (log && answered !== undefined) {
      log(parseErrorRecord(error, socket, answered, tunnelOf(socket)))
    }
  }

  // Admission answers a request without Host, with a reason (Node's own 400 has none).
  const hostRule = server as Server & { requireHostHeader?: boolean }
  const requireHostHeader = hostRule.requireHostHeader
  hostRule.requireHostHeader = false
  server.on('request', onRequest)
  server.on('checkContinue', onCheckContinue)
  server.on('connect', onConnect)
  server.on('upgrade', onUpgrade)
  server.on('clientError', onClientError)
  return () => {
    hostRule.requireHostHeader = requireHostHeader
    server.off('request', onRequest)
    server.off('checkContinue', onCheckContinue)
    server.off('connect', onConnect)
    server.off('upgrade', onUpgrade)
    server.off('clientError', onClientError)
  }
}

/** The answers to what Node's HTTP parser refused, by its error code, as Node's own default. */
const PARSE_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time'],
  // The HTTP/2 preface reaches the parser only when HTTP/2 is off (see inbound/http2-direct.ts).
  HPE_PAUSED_H2_UPGRADE: [505, 'This port speaks HTTP/1.1, not HTTP/2'],
}

/**
 * Answer bytes Node's HTTP parser refused (a bad request line, a bad header, headers too large)
 * with the status Node would use and a line that says why, where no response is under way;
 * otherwise close the connection (after that response, when its request came whole and only a
 * pipelined one behind it was cut). Returns the status answered, if any.
 */
function answerParseError(
  error: Error,
  socket: Duplex
): { status: number; bytes: number | undefined } | undefined {
  const { code = '', reason } = error as Error & { code?: string; reason?: string }
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
  // A client that ends its side mid-body has left that request, whose own record says so (499,
  // its body cut): no answer to nobody, and no second record of the same request.
  const leftMidBody = code === 'HPE_INVALID_EOF_STATE' && pending
  if (leftMidBody && pending.req.complete) {
    // The request under way came whole: the cut one is pipelined behind it, not yet read. The
    // client still reads (it ended its side only), so it gets that answer, then the close.
    pending.once('close', () => socket.end())
    return undefined
  }
  if (code === 'ECONNRESET' || leftMidBody || !socket.writable || pending?.headersSent) {
    socket.destroy()
    return undefined
  }
  const [status, text] = PARSE_ERRORS[code] ?? [
    400,
    `Malformed request: ${reason ?? error.message}`,
  ]
  return { status, bytes: replyOnSocket(socket, status, text) }
}

/**
 * Give the connection back to `server` as if the request had come without its Upgrade. Node
 * detached its parser at the Upgrade, so the head is written again, without the Upgrade header
 * and its Connection token, in front of the bytes that followed it (the body, and any pipelined
 * requests): a fresh parser reads it all as usual, keep-alive included. A `body` already read out
 * of the request (Node 26) goes between them, with a `Content-Length` in place of its framing.
 */
function replayWithoutUpgrade(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  body?: Buffer
): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const lower = name.toLowerCase()
    let value = raw[i + 1] ?? ''
    if (lower === 'upgrade' || (body && /^(content-length|transfer-encoding)$/.test(lower))) {
      continue
    }
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token.toLowerCase() !== 'upgrade')
        .join(', ')
      if (value === '') {
        continue
      }
    }
    lines.push(`${name}: ${value}`)
  }
  if (body) {
    lines.push(`Content-Length: ${body.length}`)
  }
  // llhttp hands header values over as latin1, so this writes back the bytes that came in.
  const replay = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  socket.unshift(Buffer.concat(body ? [replay, body, head] : [replay, head]))
  toHttpServer(server, socket)
}
