/**
 * What admission decides, as typed values: the decision on a request travels with it to the app
 * server (its route), the reply and the log, and nothing downstream works it out again.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Authority } from './target'

export type { Settled } from '../util/settled'

/** What a tunnel is for, and who opened it; the requests inside it inherit both. */
export interface TunnelIdentity {
  /** The host the tunnel was opened for (CONNECT or SOCKS), normalised. */
  readonly host: string
  readonly port: number
  /** The credentials the tunnel was opened with, as a `Proxy-Authorization` value. */
  readonly authorization: string | undefined
  /** `https` once TLS is terminated inside the tunnel. */
  readonly scheme: 'http' | 'https'
  /** The SNI name, once admitted for the tunnel's credentials, when it differs from `host`. */
  sni?: string
}

/** The parts of a request admission reads: a Node `IncomingMessage` has them all. */
export interface AskedRequest {
  method?: string | undefined
  url?: string | undefined
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  /** The HTTP version it came in, where it came over HTTP/1 or HTTP/2. */
  httpVersionMajor?: number
  httpVersionMinor?: number
  /** The connection it came on: a direct request for the PAC file names its local address. */
  socket?: { localAddress?: string | undefined; localPort?: number | undefined } | null
}

/** Refused: the status and the one-line reason the client gets. */
export interface Refusal {
  kind: 'refuse'
  status: number
  message: string
  /** The full URL, for the log, when it was known before the refusal. */
  fullUrl?: string
}

/** Asked for credentials: `407` with `Proxy-Authenticate: Basic realm="<realm>"`. */
export interface Challenge {
  kind: 'challenge'
  realm: string
}

/** A direct request for the main app, with its own path and Host. */
export interface Passthrough {
  kind: 'passthrough'
}

/** A proxied request, admitted: everything the app side needs to serve it. */
export interface Admitted {
  kind: 'serve'
  /** The path and query the app sees. */
  path: string
  /** The Host header the app sees (`example.com`, `example.com:8000`, `[::1]:8080`). */
  host: string
  /** The scheme of the full URL: `https` for every request inside TLS. */
  scheme: string
  /** The value of `X-Wsgiprox-Proxy-Host`. */
  proxyHost: string
  /** The proxy host whose app (or alias) serves it; `undefined` when the resolver chose. */
  route: string | undefined
  /** The normalised full URL the client asked for. */
  fullUrl: string
}

/** A request the app serves. */
export type Served = Admitted | Passthrough

/** The decision on one request. */
export type Admission = Served | Challenge | Refusal

/** The decision on a tunnel (CONNECT or SOCKS). */
export type TunnelAdmission = ({ kind: 'open' } & Authority) | Challenge | Refusal

/** The status the proxy answers `decision` with: the refusal's own, or `407` for a challenge. */
export function refusalStatus(decision: Challenge | Refusal): number {
  return decision.kind === 'refuse' ? decision.status : 407
}

/** A refusal with `status` and a one-line `message`. */
export function refuse(status: number, message: string): Refusal {
  return { kind: 'refuse', status, message }
}

/**
 * `admission`, or a refusal with `status` and `message` in place of serving it: the proxy's own
 * answer to a request its rules allow but a setting turns away, with the URL kept for the log.
 */
export function refuseServed(admission: Admission, status: number, message: string): Admission {
  if (admission.kind !== 'serve') {
    return admission
  }
  return { ...refuse(status, message), fullUrl: admission.fullUrl }
}
