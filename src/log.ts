/**
 * What the proxy tells `onLog`: one record per request when its response ends, tunnels opening
 * and closing, and host certificates issued. Nothing here runs unless `onLog` is set.
 * @module
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Admission, TunnelIdentity } from './admission'

/** Where a connection came from. */
export interface ClientAddress {
  address: string | undefined
  port: number | undefined
}

/** One request, reported when its response has ended (or the client left before). */
export interface RequestRecord {
  type: 'request'
  /** When the request arrived. */
  time: Date
  client: ClientAddress
  method: string
  /** The full URL the client asked for; for passthrough requests, the path as sent. */
  url: string
  /** The path and query the app saw; `undefined` when the proxy answered itself. */
  path: string | undefined
  /**
   * Who answered: `app` (through the resolver), the proxy host whose app or alias took it,
   * `passthrough` (a direct request to the main app), or `proxy` (a 4xx/5xx of the proxy's own).
   */
  route: string
  status: number
  /**
   * Bytes sent for the response, where known: its Content-Length when it has one, otherwise
   * (HTTP/1.x) what the connection wrote for it, head included.
   */
  bytes: number | undefined
  durationMs: number
  /** `1.0`, `1.1` or `2.0`. */
  httpVersion: string
  /** The tunnel the request came through, if any. */
  tunnel: TunnelRecord | undefined
  /** Whether the client left before the response ended. */
  aborted: boolean
  /**
   * A WebSocket upgrade: reported when its connection closes, `status` 101 when the handshake
   * succeeded, `durationMs` the life of the connection.
   */
  websocket: boolean
}

/** A tunnel as records describe it. */
export interface TunnelRecord {
  host: string
  port: number
  /** Whether TLS was terminated inside. */
  tls: boolean
  /** The ALPN protocol chosen inside TLS (`h2`, `http/1.1`, `http/1.0`), if any. */
  alpn: string | undefined
}

/** A tunnel opened (after the 200 or SOCKS success reply) or closed. */
export interface TunnelEventRecord {
  type: 'tunnel-open' | 'tunnel-close'
  time: Date
  client: ClientAddress
  host: string
  port: number
  /** For `tunnel-close`: how long it was open. */
  durationMs?: number
  /** For `tunnel-close`: TLS and ALPN, as far as the tunnel got. */
  tls?: boolean
  alpn?: string | undefined
}

/** A host certificate signed (or loaded from `certsDir`) for a handshake. */
export interface CertificateRecord {
  type: 'certificate'
  time: Date
  /** The name the certificate is issued under (`*.example.com` for a wildcard). */
  name: string
  source: 'signed' | 'stored'
  durationMs: number
}

/** Everything `onLog` receives. */
export type LogRecord = RequestRecord | TunnelEventRecord | CertificateRecord

/** The address a socket's peer has. */
export function clientOf(socket: Duplex | undefined): ClientAddress {
  const net = socket as Socket | undefined
  return { address: net?.remoteAddress, port: net?.remotePort }
}

/** The record of a tunnel identity and the TLS socket inside it, if any. */
export function tunnelRecord(
  tunnel: TunnelIdentity | undefined,
  socket: Duplex | undefined
): TunnelRecord | undefined {
  if (!tunnel) {
    return undefined
  }
  const alpn = (socket as { alpnProtocol?: string | false } | undefined)?.alpnProtocol
  return {
    host: tunnel.sni ?? tunnel.host,
    port: tunnel.port,
    tls: tunnel.scheme === 'https',
    alpn: typeof alpn === 'string' ? alpn : undefined,
  }
}

/** The response a request record watches: HTTP/1.x or HTTP/2. */
interface WatchedResponse {
  statusCode: number
  writableFinished: boolean
  getHeader(name: string): unknown
  once(event: 'close', listener: () => void): unknown
}

/** What a request record needs from its request. */
export interface WatchedRequest {
  method?: string | undefined
  url?: string | undefined
  httpVersion: string
  socket: Duplex
}

/**
 * Report `req` to `onLog` once `res` closes. Called before the request is rewritten, so the
 * URL of a passthrough request is the one the client sent.
 */
export function watchRequest(
  onLog: (record: LogRecord) => void,
  req: WatchedRequest,
  res: WatchedResponse,
  admission: Admission,
  tunnel: TunnelIdentity | undefined,
  http1Socket: Duplex | undefined
): void {
  const sentBefore = (http1Socket as Socket | undefined)?.bytesWritten
  const finish = beginRecord(req, admission, tunnel)
  res.once('close', () => {
    const length = Number(res.getHeader('content-length'))
    const sentAfter = (http1Socket as Socket | undefined)?.bytesWritten
    let bytes: number | undefined = Number.isFinite(length) ? length : undefined
    if (bytes === undefined && sentBefore !== undefined && sentAfter !== undefined) {
      bytes = sentAfter - sentBefore
    }
    onLog(finish(res.statusCode, bytes, !res.writableFinished, false))
  })
}

/**
 * Start the record of `req` as it arrives: returns what completes it once its response (or its
 * WebSocket connection) has ended.
 */
export function beginRecord(
  req: WatchedRequest,
  admission: Admission,
  tunnel: TunnelIdentity | undefined
): (
  status: number,
  bytes: number | undefined,
  aborted: boolean,
  websocket: boolean
) => RequestRecord {
  const time = new Date()
  const start = performance.now()
  const url = admission.kind === 'serve' ? admission.fullUrl : (req.url ?? '')
  const client = clientOf(req.socket)
  const tunnelInfo = tunnelRecord(tunnel, req.socket)
  return (status, bytes, aborted, websocket) => ({
    type: 'request',
    time,
    client,
    method: req.method ?? 'GET',
    url,
    path: appPath(admission, req.url),
    route: routeName(admission),
    status,
    bytes,
    durationMs: performance.now() - start,
    httpVersion: req.httpVersion,
    tunnel: tunnelInfo,
    aborted,
    websocket,
  })
}

/** The `path` of a record: what the app saw, `undefined` when the proxy answered itself. */
export function appPath(admission: Admission, url: string | undefined): string | undefined {
  if (admission.kind === 'serve') {
    return admission.path
  }
  return admission.kind === 'passthrough' ? (url ?? '') : undefined
}

/** The `route` of a record, from its admission. */
export function routeName(admission: Admission): string {
  switch (admission.kind) {
    case 'passthrough':
      return 'passthrough'
    case 'serve':
      return admission.route ?? 'app'
    default:
      return 'proxy'
  }
}
