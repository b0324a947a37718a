/**
 * The hooks on a Node `http.Server`. Each request (absolute form, origin form, inside a tunnel)
 * and each upgrade is classified, admitted, and then answered by the proxy (400, 407, 421, 500)
 * or rewritten as admitted and handed to the app server. CONNECT goes to `tunnel.ts`.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Admission } from '../admission/gate'
import type { AppServer } from '../app/app-server'
import { rewriteRequest } from '../app/rewrite'
import { toError } from '../errors'
import { parseErrorRecord } from '../log/parse-error-record'
import { watchRequest } from '../log/watch'
import type { NormalizedOptions } from '../options'
import type { Connections } from './connections'
import { challengeHeaders, reply, replyOnSocket } from './replies'
import type { TunnelDeps } from './tunnel'
import { handleConnect, tunnelOf } from './tunnel'
import { readUpgradeBody, UPGRADE_BODY_MAX_BYTES } from './upgrade-body'

/** What the listener needs from the proxy. */
export interface ListenerDeps extends TunnelDeps {
  options: NormalizedOptions
  connections: Connections
  /** The adaptor server that runs the app for requests and WebSocket upgrades. */
  appServer: AppServer
}

const UPGRADE_BODY_TOO_LARGE = `A request with Upgrade and a body over ${UPGRADE_BODY_MAX_BYTES} bytes is not served; send it without Upgrade`

/** Passthrough requests keep their path and Host; only the proxy's headers go. */
const PASSTHROUGH = {}

/** A WebSocket upgrade, as the `upgrade` event gives it. */
interface Upgrade {
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
  const serveRequest = (req: IncomingMessage, res: ServerResponse, admission: Admission) => {
    if (log) {
      watchRequest(log, req, res, admission, tunnelOf(req.socket), req.socket)
    }
    switch (admission.kind) {
      case 'passthrough':
      case 'serve':
        rewriteRequest(req, admission.kind === 'serve' ? admission : PASSTHROUGH)
        appServer.server.emit('request', req, res)
        return
      case 'challenge':
        reply(res, 407, 'Proxy authentication required', challengeHeaders(admission.realm))
        return
      case 'refuse':
        // A request the proxy refused may have a body it will not read: close after answering.
        reply(res, admission.status, admission.message, {}, true)
    }
  }

  const failRequest = (res: ServerResponse, error: unknown) => {
    options.onError(toError(error), { phase: 'admission' })
    reply(res, 500, 'The proxy could not admit this request', {}, true)
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const tunnel = tunnelOf(req.socket)
    if (tunnel && connections.shouldClose()) {
      res.shouldKeepAlive = false
    }
    admitThen(gate.admitRequest(tunnel, req), req, res, serveRequest, failRequest)
  }

  const serveUpgrade = (req: IncomingMessage, upgrade: Upgrade, admission: Admission) => {
    const { socket, head } = upgrade
    switch (admission.kind) {
      case 'serve':
        if (!options.enableWebsockets) {
          replyOnSocket(socket, 501, 'WebSockets through this proxy are disabled')
          return
        }
      // falls through
      case 'passthrough':
        rewriteRequest(req, admission.kind === 'serve' ? admission : PASSTHROUGH)
        appServer.upgrade(req, socket, head)
        return
      case 'challenge':
        replyOnSocket(
          socket,
          407,
          'Proxy authentication required',
          challengeHeaders(admission.realm)
        )
        return
      case 'refuse':
        replyOnSocket(socket, admission.status, admission.message)
    }
  }

  const failUpgrade = ({ socket }: Upgrade, error: unknown) => {
    options.onError(toError(error), { phase: 'admission' })
    replyOnSocket(socket, 500, 'The proxy could not admit this request')
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
    admitThen(gate.admitRequest(tunnel, req), req, { socket, head }, serveUpgrade, failUpgrade)
  }

  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(server, req, socket, head, deps)
  }

  const onClientError = (error: Error, socket: Duplex) => {
    const status = answerParseError(error, socket)
    // A refusal is an answer too: it gets its access line.
    if (log && status !== undefined) {
      log(parseErrorRecord(error, socket, status, tunnelOf(socket)))
    }
  }

  server.on('request', onRequest)
  server.on('connect', onConnect)
  server.on('upgrade', onUpgrade)
  server.on('clientError', onClientError)
  return () => {
    server.off('request', onRequest)
    server.off('connect', onConnect)
    server.off('upgrade', onUpgrade)
    server.off('clientError', onClientError)
  }
}

/**
 * Serve `req` once admitted, now or when the user's callbacks have answered. What is served comes
 * in as `target` rather than in a closure: the request path makes none per request.
 */
function admitThen<T>(
  admission: Admission | Promise<Admission>,
  req: IncomingMessage,
  target: T,
  serve: (req: IncomingMessage, target: T, admission: Admission) => void,
  fail: (target: T, error: unknown) => void
): void {
  if (admission instanceof Promise) {
    admission.then(
      (result) => {
        serve(req, target, result)
      },
      (error: unknown) => {
        fail(target, error)
      }
    )
    return
  }
  serve(req, target, admission)
}

/** The answers to what Node's HTTP parser refused, by its error code, as Node's own default. */
const PARSE_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time'],
}

/**
 * Answer bytes Node's HTTP parser refused (a bad request line, a bad header, headers too large)
 * with the status Node would use and a line that says why, where no response is under way;
 * otherwise close the connection. Returns the status answered, if any.
 */
function answerParseError(error: Error, socket: Duplex): number | undefined {
  const { code = '', reason } = error as Error & { code?: string; reason?: string }
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
  if (code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy()
    return undefined
  }
  const [status, text] = PARSE_ERRORS[code] ?? [
    400,
    `Malformed request: ${reason ?? error.message}`,
  ]
  replyOnSocket(socket, status, text)
  return status
}

/**
 * Run `next` once `socket` has no response in progress. Node queues the responses of pipelined
 * requests on the parser state of the connection, and a replayed connection gets a new state:
 * a response queued there behind one still owned by the old state would never be written. So the
 * replay waits until the old state has written all it had (`_httpMessage` is the response that
 * owns the socket, cleared when the last one finishes).
 */
function whenIdle(socket: Duplex, next: () => void): void {
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
  if (!pending) {
    next()
    return
  }
  // Node's own 'finish' listener, added first, hands the socket to the next queued response.
  const again = () => {
    pending.off('finish', again)
    pending.off('close', again)
    whenIdle(socket, next)
  }
  pending.once('finish', again)
  pending.once('close', again)
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
  server.emit('connection', socket)
}
