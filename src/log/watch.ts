/**
 * The watchers that make `onLog` records of requests and tunnels. Nothing here runs unless
 * `onLog` is set.
 * @module
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Admission, TunnelIdentity } from '../admission/decision'
import { bodyBytesOf } from '../app/response-guard'
import type { ClientAddress, LogRecord, TunnelRecord } from './records'

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
interface WatchedRequest {
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
  tunnel: TunnelIdentity | undefined
): void {
  const time = new Date()
  const start = performance.now()
  const url = admission.kind === 'serve' ? admission.fullUrl : (req.url ?? '')
  const client = clientOf(req.socket)
  const tunnelInfo = tunnelRecord(tunnel, req.socket)
  res.once('close', () => {
    // The app's body was counted as it went out; the proxy's own replies declare their length.
    const length = Number(res.getHeader('content-length'))
    const bytes = bodyBytesOf(res) ?? (Number.isFinite(length) ? length : undefined)
    onLog({
      type: 'request',
      time,
      client,
      method: req.method ?? 'GET',
      url,
      path:
        admission.kind === 'serve'
          ? admission.path
          : admission.kind === 'passthrough'
            ? (req.url ?? '')
            : undefined,
      route: routeName(admission),
      status: res.statusCode,
      bytes,
      durationMs: performance.now() - start,
      httpVersion: req.httpVersion,
      tunnel: tunnelInfo,
      aborted: !res.writableFinished,
    })
  })
}

function routeName(admission: Admission): string {
  switch (admission.kind) {
    case 'passthrough':
      return 'passthrough'
    case 'serve':
      return admission.route ?? 'app'
    default:
      return 'proxy'
  }
}
