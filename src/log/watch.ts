/**
 * The watchers that make `onLog` records of requests and tunnels. Nothing here runs unless
 * `onLog` is set.
 * @module
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Admission, TunnelIdentity } from '../admission/decision'
import { refusalStatus } from '../admission/decision'
import { originOf } from '../admission/target'
import { wasCut } from '../app/cut-short'
import { bodyBytesOf } from '../app/response-guard'
import { now } from '../util/clock'
import { awaitRecord, recordReported } from './pending'
import type { ClientAddress, LogRecord, RequestRecord, TunnelRecord } from './records'

/** The address a socket's peer has. */
export function clientOf(socket: Duplex | undefined): ClientAddress {
  const net = socket as Socket | undefined
  return { address: net?.remoteAddress, port: net?.remotePort }
}

/**
 * Ask for the peer's address of `socket` now, while the connection is up: Node keeps the answer.
 * A tunnel's records are made once admission has decided, and a client that reset meanwhile would
 * leave them naming no one (the socket can no longer say whom it was connected to).
 */
export function rememberPeer(socket: Duplex): void {
  clientOf(socket)
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
  /** Whether the status line (HTTP/1) or HEADERS frame (HTTP/2) went out. */
  headersSent: boolean
  writableFinished: boolean
  /**
   * HTTP/2: the stream, `aborted` when the client reset it before the response ended. Node
   * reports a reset stream's response as finished (its writable side is destroyed), so
   * `writableFinished` alone would call a cancelled download complete.
   */
  stream?: { aborted: boolean }
  getHeader(name: string): unknown
  once(event: 'close', listener: () => void): unknown
}

/** What a request record needs from its request. */
export interface WatchedRequest {
  method?: string | undefined
  url?: string | undefined
  /** HTTP/2's `:authority`. */
  authority?: string | undefined
  httpVersion: string
  socket: Duplex
}

/**
 * The status recorded for a request no answer went out to (its client left first, or the proxy
 * closed): nginx's "client closed request".
 */
export const CLIENT_CLOSED_STATUS = 499

/**
 * The status recorded for a request whose client left while admission decided (an async
 * `requireAuth` or `resolve`): the proxy's refusal or challenge, or 499 for one the app was to
 * serve.
 */
export function unansweredStatus(admission: Admission): number {
  return admission.kind === 'refuse' || admission.kind === 'challenge'
    ? refusalStatus(admission)
    : CLIENT_CLOSED_STATUS
}

/**
 * Report `req` to `onLog` once `res` closes, or at once, aborted, when its client has left
 * (`gone`) and no one answers it. Called before the request is rewritten, so the URL of a
 * passthrough request is the one the client sent.
 */
export function watchRequest(
  onLog: (record: LogRecord) => void,
  req: WatchedRequest,
  res: WatchedResponse,
  admission: Admission,
  tunnel: TunnelIdentity | undefined,
  gone = false
): void {
  const finish = beginRecord(req, admission, tunnel)
  if (gone) {
    onLog(finish(unansweredStatus(admission), 0, true, false))
    return
  }
  const pending = awaitRecord(onLog)
  res.once('close', () => {
    // The app's body was counted as it went out; the proxy's own replies declare their length,
    // and send no body to HEAD.
    const length = req.method === 'HEAD' ? 0 : Number(res.getHeader('content-length'))
    const bytes = bodyBytesOf(res) ?? (Number.isFinite(length) ? length : undefined)
    const aborted = !res.writableFinished || res.stream?.aborted === true || wasCut(res)
    // A response cut before its head went out sent no status: its 200 is only Node's default.
    const status = res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS
    onLog(finish(status, bytes, aborted, false))
    recordReported(pending)
  })
}

/**
 * The request (Node's, as the app server is given it) each record describes, for the test kit,
 * which pairs a record with the headers and body its app saw.
 */
const requestsOfRecords = new WeakMap<RequestRecord, object>()

/** The request `record` was made of: the `incoming` of the app's node-server env. */
export function requestOfRecord(record: RequestRecord): object | undefined {
  return requestsOfRecords.get(record)
}

/** When requests whose admission waits on the user's callbacks arrived. */
const arrivals = new WeakMap<object, { time: Date; start: number }>()

/**
 * Note that `req` arrived now, for a record begun only once admission has decided (an async
 * `requireAuth` or `resolve`): its `time` and `durationMs` then count the wait too.
 */
export function noteArrival(req: object): void {
  arrivals.set(req, { time: new Date(), start: now() })
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
  const arrival = arrivals.get(req)
  const time = arrival?.time ?? new Date()
  const start = arrival?.start ?? now()
  const known = admission.kind === 'serve' || admission.kind === 'refuse'
  // An HTTP/2 CONNECT names its target in :authority, and has no :path (RFC 9113 §8.5).
  const url =
    (known ? admission.fullUrl : undefined) ?? inTunnel(req.url, tunnel) ?? req.authority ?? ''
  const client = clientOf(req.socket)
  const tunnelInfo = tunnelRecord(tunnel, req.socket)
  return (status, bytes, aborted, websocket) => {
    const record: RequestRecord = {
      type: 'request',
      time,
      client,
      method: req.method ?? 'GET',
      url,
      path: appPath(admission, req.url),
      route: routeName(admission),
      status,
      bytes,
      durationMs: now() - start,
      httpVersion: req.httpVersion,
      tunnel: tunnelInfo,
      aborted,
      websocket,
    }
    requestsOfRecords.set(record, req)
    return record
  }
}

/**
 * The full URL of `target`, a path sent inside `tunnel`, when the proxy answered it itself (a
 * `421`, a `407`): the tunnel's origin, which the request reached whatever it named.
 */
function inTunnel(
  target: string | undefined,
  tunnel: TunnelIdentity | undefined
): string | undefined {
  if (!tunnel || !target?.startsWith('/')) {
    return target
  }
  return `${originOf(tunnel.scheme, tunnel.sni ?? tunnel.host, tunnel.port)}${target}`
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
