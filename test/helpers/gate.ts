/**
 * A gate built as createProxy builds it, without sockets: what table tests of admission need to
 * describe a request in one row and read the decision back.
 */
import type {
  Admission,
  Admitted,
  AskedRequest,
  Challenge,
  Refusal,
  TunnelIdentity,
} from '../../src/admission/decision'
import type { AdmissionOptions, Gate } from '../../src/admission/gate'
import { createGate } from '../../src/admission/gate'
import type { ErrorContext, Resolver } from '../../src/types'

/** The proxy hosts of every table: the proxy host (also the download host), an app, an alias. */
export const PROXY_HOST = 'wsgiprox'
export const PROXY_APP = 'proxy-app-1'
export const PROXY_ALIAS = 'proxy-alias'

/** A short admission deadline, so that a resolver that never answers fails a row in time. */
export const ADMISSION_TIMEOUT_MS = 50

/** A gate and what it told `onError`. */
export interface TestGate {
  gate: Gate
  reported: { error: Error; context: ErrorContext }[]
}

/** The gate of a proxy with `resolver`, the PAC file and the downloads on. */
export function testGate(resolver: Resolver, options: Partial<AdmissionOptions> = {}): TestGate {
  const reported: TestGate['reported'] = []
  const gate = createGate({
    resolver,
    proxyHost: PROXY_HOST,
    proxyHosts: new Set([PROXY_HOST, PROXY_APP, PROXY_ALIAS]),
    downloadHost: PROXY_HOST,
    admissionTimeoutMs: ADMISSION_TIMEOUT_MS,
    pac: true,
    onError: (error, context) => reported.push({ error, context }),
    ...options,
  })
  return { gate, reported }
}

/** The proxy's own address in the tables: a direct request for the PAC file names it. */
export const OWN_ADDRESS = { localAddress: '127.0.0.1', localPort: 8080 }

/** A request as Node parses it: `headers` in order, the first of a repeated name in `headers`. */
export function asked(
  method: string,
  url: string,
  headers: [string, string][] = [],
  socket: AskedRequest['socket'] = OWN_ADDRESS
): AskedRequest {
  const object: AskedRequest['headers'] = {}
  for (const [name, value] of headers) {
    object[name.toLowerCase()] ??= value
  }
  return { method, url, headers: object, rawHeaders: headers.flat(), socket }
}

/** A tunnel opened for `host:port`, with TLS inside unless the scheme says otherwise. */
export function tunnel(
  host: string,
  port: number,
  more: { authorization?: string; scheme?: 'http' | 'https'; sni?: string } = {}
): TunnelIdentity {
  return {
    host,
    port,
    authorization: more.authorization,
    scheme: more.scheme ?? 'https',
    ...(more.sni === undefined ? {} : { sni: more.sni }),
  }
}

/** An admitted request for a host the resolver translates. */
export function translated(
  scheme: 'http' | 'https',
  host: string,
  path: string,
  fullUrl: string
): Admitted {
  return { kind: 'serve', path, host, scheme, proxyHost: PROXY_HOST, route: undefined, fullUrl }
}

/** An admitted request for a proxy host: its own path, routed to its app or alias. */
export function routed(route: string, host: string, path: string, fullUrl: string): Admitted {
  const scheme = fullUrl.startsWith('https:') ? 'https' : 'http'
  return { kind: 'serve', path, host, scheme, proxyHost: route, route, fullUrl }
}

/** `Proxy-Authorization: Basic` for `user` with an empty password. */
export function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:`).toString('base64')}`
}

/** The sections of SPEC.md a row names as the rule it checks. */
export const SPEC = {
  translation: 'Translation',
  proxyHosts: 'Proxy hosts and proxy apps',
  resolvers: 'Resolvers',
  guarantees: 'Admission: the guarantees',
  failClosed: 'Admission: the guarantees: fail closed',
  boundary: 'Admission: the guarantees: the prefix is a boundary',
  added: 'Added 2026-12-04',
  pac: 'Protocols and entry points: PAC file',
} as const

/** One row of a request table: the SPEC rule it checks, the request, and the decision. */
export interface Row {
  rule: string
  name: string
  tunnel?: TunnelIdentity
  request: AskedRequest
  expected: Admission
}

/** A GET of `url` with `headers`. */
export function get(url: string, headers: [string, string][] = []): AskedRequest {
  return asked('GET', url, headers)
}

/** The refusal the gate answers with. */
export function refused(status: number, message: string): Refusal {
  return { kind: 'refuse', status, message }
}

/** A tunnel to example.com:443 with TLS inside, opened without credentials. */
export const TLS_443 = tunnel('example.com', 443)

/** The realm of the ProxyAuthResolver in the tables, and its challenge. */
export const REALM = 'Pick a collection'
export const ASK: Challenge = { kind: 'challenge', realm: REALM }

/** Credentials for the user `my-coll`. */
export const ME = basic('my-coll')

/** The refusal of a request whose `requireAuth` failed. */
export const FAILED_AUTH = refused(
  500,
  'The proxy could not admit this request: requireAuth failed'
)

/** A callback that never answers. */
export const never = (): Promise<never> => new Promise<never>(() => {})
