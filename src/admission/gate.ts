/**
 * Admission: the one place that decides, for every request whichever way it arrives (absolute
 * form, CONNECT, each request inside a tunnel, WebSocket upgrades, the Fetch-only entry), whether
 * it is served, and how (the full URL, the path the app sees, the proxy host), challenged (407)
 * or refused. The user's `requireAuth` and `resolve` are called here and nowhere else; whatever
 * they do (throw, reject, answer with the wrong type) the request is refused, never served.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http'
import { PROXY_HOST_HEADER } from '../app/rewrite'
import { toError } from '../errors'
import { PAC_PATH } from '../pages/pac'
import type { ErrorContext, Resolver } from '../types'
import { FixedResolver } from './resolvers'
import type { Authority } from './target'
import {
  addressHost,
  describe,
  fullUrl,
  hostPort,
  originOf,
  parseAbsoluteTarget,
  parseAuthority,
  pathOf,
  unsafePathReason,
  validHost,
} from './target'

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
  /** The connection it came on: a direct request for the PAC file names its local address. */
  socket?: { localAddress?: string | undefined; localPort?: number | undefined } | null
}

/** Refused: the status and the one-line reason the client gets. */
export interface Refusal {
  kind: 'refuse'
  status: number
  message: string
}

/** Asked for credentials: `407` with `Proxy-Authenticate: Basic realm="<realm>"`. */
export interface Challenge {
  kind: 'challenge'
  realm: string
}

/** The decision on one request. */
export type Admission =
  | { kind: 'passthrough' }
  | {
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
  | Challenge
  | Refusal

/** The decision on a tunnel (CONNECT or SOCKS). */
export type TunnelAdmission = ({ kind: 'open' } & Authority) | Challenge | Refusal

/** A value now, or later. */
export type Settled<T> = T | Promise<T>

/** What admission depends on. */
export interface AdmissionOptions {
  resolver: Resolver
  proxyHost: string
  /** Every host whose requests stay untranslated: proxy host, download host, proxy apps. */
  proxyHosts: ReadonlySet<string>
  /** How long an async `requireAuth` or `resolve` may take before the request is refused. */
  admissionTimeoutMs: number
  /** Serve a direct request for `/proxy.pac` to the proxy's own address on the proxy host. */
  pac: boolean
  onError: (error: Error, context: ErrorContext) => void
}

/** The admission gate of one proxy. */
export interface Gate {
  /** Admit a tunnel to `target` (`host:port`) opened with `authorization`. */
  admitTunnel(target: string, authorization: string | undefined): Settled<TunnelAdmission>
  /**
   * Whether a tunnel without credentials is challenged before its target is known: a SOCKS5
   * greeting that offers no username/password must be answered before the client names its
   * target, so `requireAuth` sees a request for the proxy host. `admitTunnel` still decides
   * once the target is named.
   */
  admitAnonymous(): Settled<Challenge | Refusal | undefined>
  /**
   * Admit the SNI name of a TLS handshake inside `tunnel`: resolves with the name the tunnel's
   * requests are for, and rejects (refusing the handshake) when the name is invalid or the
   * tunnel's credentials do not admit it.
   */
  admitName(tunnel: TunnelIdentity, servername: string): Promise<string>
  /** Admit one request, inside `tunnel` or on a direct connection. */
  admitRequest(tunnel: TunnelIdentity | undefined, request: AskedRequest): Settled<Admission>
}

const HOST_HEADERS = [':authority', 'host'] as const

const refuse = (status: number, message: string): Refusal => ({ kind: 'refuse', status, message })

/** Build the gate. */
export function createGate(options: AdmissionOptions): Gate {
  const { resolver, proxyHost, proxyHosts, admissionTimeoutMs, pac, onError } = options
  // The default resolver never looks at the request, so none is built for it.
  const pureResolver = resolver.constructor === FixedResolver

  /** Refuse because a user callback failed; the error goes to onError, the client gets 500. */
  const failed = (what: string, error: unknown, host: string | undefined): Refusal => {
    const cause = toError(error)
    onError(new Error(`${what} failed: ${cause.message}`, { cause }), { phase: 'admission', host })
    return refuse(500, `The proxy could not admit this request: ${what} failed`)
  }

  /** Call a user callback; a throw, a rejection or a wrong answer refuses the request. */
  const guard = <T, R>(
    what: string,
    host: string | undefined,
    call: () => unknown,
    accept: (value: unknown) => T | R
  ): Settled<T | R | Refusal> => {
    let value: unknown
    try {
      value = call()
    } catch (error) {
      return failed(what, error, host)
    }
    if (isThenable(value)) {
      return withDeadline(value, admissionTimeoutMs, what).then(
        (settled) => acceptOrFail(what, host, settled, accept),
        (error: unknown) => failed(what, error, host)
      )
    }
    return acceptOrFail(what, host, value, accept)
  }

  const acceptOrFail = <T, R>(
    what: string,
    host: string | undefined,
    value: unknown,
    accept: (value: unknown) => T | R
  ): T | R | Refusal => {
    try {
      return accept(value)
    } catch (error) {
      return failed(what, error, host)
    }
  }

  /** Ask `requireAuth`, if the resolver has one: `undefined` lets the request on. */
  const checkAuth = (
    host: string,
    request: () => Request
  ): Settled<Challenge | Refusal | undefined> => {
    if (typeof resolver.requireAuth !== 'function') {
      return undefined
    }
    return guard(
      'requireAuth',
      host,
      () => resolver.requireAuth?.(request()),
      (realm): Challenge | undefined => {
        if (realm === undefined) {
          return undefined
        }
        if (typeof realm !== 'string') {
          throw new TypeError(`it returned ${describe(realm)}, not a realm string or undefined`)
        }
        return { kind: 'challenge', realm }
      }
    )
  }

  // Neither check looks at the request: none is built (the default resolver, no requireAuth).
  const needsRequest = typeof resolver.requireAuth === 'function' || !pureResolver

  /**
   * Admit a request for `target`: ask `requireAuth`, then serve it at the path the resolver (or
   * the proxy-host rule) gives. `authorization` is the only `Proxy-Authorization` the resolver
   * sees: the tunnel's inside a tunnel.
   */
  const admitTarget = (
    scheme: string,
    target: Authority,
    path: string,
    request: AskedRequest,
    method: string,
    authorization: string | undefined
  ): Settled<Admission> => {
    const url = fullUrl(originOf(scheme, target.host, target.port), path)
    if (!needsRequest) {
      return serve(scheme, target, url, undefined)
    }
    let built: Request | undefined
    const asked = () => (built ??= requestOf(url, method, clientHeaders(request, authorization)))
    return andThen(
      checkAuth(target.host, asked),
      (denied) => denied ?? serve(scheme, target, url, asked)
    )
  }

  /** Serve the normalised `url`, at the path of a proxy host or the one the resolver gives. */
  const serve = (
    scheme: string,
    target: Authority,
    url: string,
    request: (() => Request) | undefined
  ): Settled<Admission> => {
    const host = hostPort(scheme, target.host, target.port)
    if (proxyHosts.has(target.host)) {
      const route = target.host
      return {
        kind: 'serve',
        path: pathOf(url),
        host,
        scheme,
        proxyHost: route,
        route,
        fullUrl: url,
      }
    }
    if (pureResolver) {
      // A checked prefix before a normalised URL: nothing to refuse, nothing that can throw.
      const path = (resolver as FixedResolver).resolve(url)
      return { kind: 'serve', path, host, scheme, proxyHost, route: undefined, fullUrl: url }
    }
    return guard(
      'resolve',
      target.host,
      () => resolver.resolve(url, (request as () => Request)()),
      (resolved): Admission => {
        const problem = unsafePathReason(resolved)
        if (problem !== undefined) {
          throw new TypeError(problem)
        }
        return {
          kind: 'serve',
          path: resolved as string,
          host,
          scheme,
          proxyHost,
          route: undefined,
          fullUrl: url,
        }
      }
    )
  }

  return {
    admitTunnel(target, authorization) {
      const authority = parseAuthority(target)
      if (!authority) {
        return refuse(400, `Invalid CONNECT target: ${quote(target)}`)
      }
      // Fetch cannot carry CONNECT: the resolver sees a GET of the tunnel's https origin.
      const request = () =>
        requestOf(
          `${originOf('https', authority.host, authority.port)}/`,
          'GET',
          authHeaders(authorization)
        )
      return andThen(
        checkAuth(authority.host, request),
        (denied) => denied ?? { kind: 'open', ...authority }
      )
    },

    admitAnonymous() {
      return checkAuth(proxyHost, () =>
        requestOf(`${originOf('https', proxyHost, 443)}/`, 'GET', authHeaders(undefined))
      )
    },

    async admitName(tunnel, servername) {
      const name = validHost(servername)
      if (name === undefined) {
        throw new Error(`Invalid SNI name ${quote(servername)}`)
      }
      if (name === tunnel.host) {
        return name
      }
      const request = () =>
        requestOf(
          `${originOf('https', name, tunnel.port)}/`,
          'GET',
          authHeaders(tunnel.authorization)
        )
      const denied = await checkAuth(name, request)
      if (denied) {
        throw new Error(
          `SNI name ${name} is not admitted for the tunnel to ${tunnel.host}: ${
            denied.kind === 'challenge' ? 'it asks for other credentials' : denied.message
          }`
        )
      }
      return name
    },

    admitRequest(tunnel, request) {
      const target = request.url ?? ''
      const method = request.method ?? 'GET'
      if (!tunnel) {
        return admitDirect(request, target, method)
      }
      if (method === 'CONNECT') {
        return refuse(405, 'CONNECT inside a tunnel is not supported')
      }
      // HTTP/2 names the host in :authority, HTTP/1.1 in Host; each one sent must be the tunnel's.
      for (const name of HOST_HEADERS) {
        const value = request.headers[name]
        if (typeof value !== 'string') {
          continue
        }
        const named = parseAuthority(value, tunnel.port)
        if (!named) {
          return refuse(
            400,
            `Invalid ${name === 'host' ? 'Host header' : ':authority'}: ${quote(value)}`
          )
        }
        if (named.host !== tunnel.host && named.host !== tunnel.sni) {
          return misdirected(tunnel, named.host)
        }
      }
      let path = target
      if (!target.startsWith('/')) {
        const absolute = parseAbsoluteTarget(target)
        if (absolute instanceof Error) {
          return refuse(400, absolute.message)
        }
        if (!absolute) {
          return refuse(400, `Invalid request target in a tunnel: ${quote(target)}`)
        }
        if (absolute.host !== tunnel.host && absolute.host !== tunnel.sni) {
          return misdirected(tunnel, absolute.host)
        }
        path = absolute.path
      }
      const authority = { host: tunnel.sni ?? tunnel.host, port: tunnel.port }
      // Credentials belong to the tunnel: one sent inside it is never used.
      return admitTarget(tunnel.scheme, authority, path, request, method, tunnel.authorization)
    },
  }

  function admitDirect(request: AskedRequest, target: string, method: string): Settled<Admission> {
    if (target.startsWith('/')) {
      const host = request.headers.host
      const named = host === undefined ? undefined : parseAuthority(host, 80)
      if (host !== undefined && !named) {
        return refuse(400, `Invalid Host header: ${quote(host)}`)
      }
      // Browsers fetch a PAC URL directly, not through the proxy: one for the proxy's own address
      // is a request for the proxy host, which serves the file.
      if (pac && named && isPacPath(target) && isOwnAddress(named, request.socket)) {
        return {
          kind: 'serve',
          path: target,
          host: proxyHost,
          scheme: 'http',
          proxyHost,
          route: proxyHost,
          fullUrl: `http://${proxyHost}${target}`,
        }
      }
      return { kind: 'passthrough' }
    }
    const absolute = parseAbsoluteTarget(target)
    if (!absolute) {
      return refuse(400, `Invalid request target: ${quote(target)}`)
    }
    if (absolute instanceof Error) {
      return refuse(400, absolute.message)
    }
    const authorization = firstValue(request.headers['proxy-authorization'])
    return admitTarget(absolute.scheme, absolute, absolute.path, request, method, authorization)
  }
}

function isPacPath(target: string): boolean {
  return target === PAC_PATH || target.startsWith(`${PAC_PATH}?`)
}

/** Whether `named` is the address the connection reached: its local address, or localhost. */
function isOwnAddress(named: Authority, socket: AskedRequest['socket']): boolean {
  const address = socket?.localAddress
  if (address === undefined || named.port !== socket?.localPort) {
    return false
  }
  return named.host === 'localhost' || named.host === validHost(addressHost(address))
}

function misdirected(tunnel: TunnelIdentity, host: string): Refusal {
  return refuse(
    421,
    `Misdirected request: this tunnel is for ${tunnel.sni ?? tunnel.host}, not ${host}`
  )
}

/** `value`, or a rejection once `ms` have passed without it settling. */
function withDeadline<T>(value: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not answer within ${ms} ms`))
    }, ms)
  })
  return Promise.race([Promise.resolve(value), late]).finally(() => {
    clearTimeout(timer)
  })
}

/** Apply `next` to a value now or later, without a Promise when there is none. */
export function andThen<T, U>(value: Settled<T>, next: (value: T) => Settled<U>): Settled<U> {
  return value instanceof Promise ? value.then(next) : next(value)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function authHeaders(authorization: string | undefined): Headers {
  const headers = new Headers()
  if (authorization !== undefined) {
    headers.set('proxy-authorization', authorization)
  }
  return headers
}

/**
 * The client's headers as the resolver sees them: without a forged proxy-host header, HTTP/2
 * pseudo-headers or header values Fetch cannot hold, and with `authorization` as the only
 * `Proxy-Authorization`.
 */
function clientHeaders(request: AskedRequest, authorization: string | undefined): Headers {
  const headers = new Headers()
  const raw = request.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase()
    if (name.startsWith(':') || name === PROXY_HOST_HEADER || name === 'proxy-authorization') {
      continue
    }
    try {
      headers.append(name, raw[i + 1] ?? '')
    } catch {
      // A value Fetch refuses (a NUL, for instance) is left out of the resolver's view only.
    }
  }
  if (authorization !== undefined) {
    headers.set('proxy-authorization', authorization)
  }
  return headers
}

/** A body-less Request; methods Fetch forbids (CONNECT, TRACE) are shown as GET. */
export function requestOf(url: string, method: string, headers: Headers): Request {
  try {
    return new Request(url, { method, headers })
  } catch {
    return new Request(url, { method: 'GET', headers })
  }
}
