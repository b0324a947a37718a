/**
 * Admission: the one place that decides, for every request whichever way it arrives (absolute
 * form, CONNECT, each request inside a tunnel, WebSocket upgrades, SOCKS5, HTTP/2 streams, the
 * Fetch-only entry), whether it is served, and how (the full URL, the path the app sees, the
 * route), challenged (407) or refused.
 * @module
 */
import type { ErrorContext, Resolver } from '../types'
import { andThen } from '../util/settled'
import type { Settled } from '../util/settled'
import { authRequest, clientRequest, firstValue, quote } from './asked'
import type {
  Admission,
  AskedRequest,
  Challenge,
  Refusal,
  TunnelAdmission,
  TunnelIdentity,
} from './decision'
import { refuse } from './decision'
import { hostHeaderRefusal } from './host-header'
import { NESTED_CONNECT, pathInTunnel } from './in-tunnel'
import { LastDecisions } from './last-decision'
import { admitOriginForm, isPublicPage } from './own-pages'
import { FixedResolver } from './resolvers'
import type { Authority } from './target'
import {
  fullUrl,
  hostPort,
  originOf,
  parseAbsoluteTarget,
  parseAuthority,
  pathOf,
  validHost,
} from './target'
import { guardCallbacks } from './user-callbacks'

/** What admission depends on. */
export interface AdmissionOptions {
  resolver: Resolver
  proxyHost: string
  /** Every host whose requests stay untranslated: proxy host, download host, proxy apps. */
  proxyHosts: Set<string>
  /** The host of the certificate downloads; `undefined` when they are off. */
  downloadHost: string | undefined
  /** How long an async `requireAuth` or `resolve` may take before the request is refused. */
  admissionTimeoutMs: number
  /** Serve the PAC file: through the proxy, and on a direct request to the proxy's address. */
  pac: boolean
  onError: (error: Error, context: ErrorContext) => void
}

/** The admission gate of one proxy. */
export interface Gate {
  /**
   * Admit a tunnel to `target` (`host:port`) opened with `authorization`; `inside` is the tunnel
   * the request came through, if any: a tunnel is never re-tunnelled.
   */
  admitTunnel(
    inside: TunnelIdentity | undefined,
    target: string,
    authorization: string | undefined
  ): Settled<TunnelAdmission>
  /**
   * Whether a tunnel without credentials is challenged before its target is known: a SOCKS5
   * greeting that offers no username/password must be answered before the client names its
   * target, so `requireAuth` sees a request for the proxy host. `admitTunnel` still decides
   * once the target is named.
   */
  admitAnonymous(): Settled<Challenge | Refusal | undefined>
  /**
   * Admit the SNI name of a TLS handshake inside `tunnel`: the name the tunnel's requests are
   * for (at once when it is the tunnel's own host, as in most handshakes), or a rejection
   * (refusing the handshake) when the name is invalid or the tunnel's credentials do not admit it.
   */
  admitName(tunnel: TunnelIdentity, servername: string): Settled<string>
  /** Admit one request, inside `tunnel` or on a direct connection. */
  admitRequest(tunnel: TunnelIdentity | undefined, request: AskedRequest): Settled<Admission>
  /**
   * Make `host` a proxy host from the next request on, forgetting the decisions kept per
   * connection: one kept for `host` before would still send it through the resolver.
   */
  addProxyHost(host: string): void
}

/** Build the gate. */
export function createGate(options: AdmissionOptions): Gate {
  const { resolver, proxyHost, proxyHosts, pac } = options
  const callbacks = guardCallbacks(options)
  // The default resolver never looks at the request, so none is built for it.
  const pureResolver = resolver.constructor === FixedResolver
  const publicPages = { proxyHost, downloadHost: options.downloadHost, pac }
  // Neither check looks at the request: none is built (the default resolver, no requireAuth).
  const needsRequest = callbacks.hasAuth || !pureResolver

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
    const asked = () => (built ??= clientRequest(url, method, request.rawHeaders, authorization))
    // The CA downloads and the PAC file are public: a browser fetches them before it has a login.
    const hasSocket = request.socket !== undefined && request.socket !== null
    if (isPublicPage(publicPages, target.host, pathOf(url), method, hasSocket)) {
      return serve(scheme, target, url, asked)
    }
    // andThen's shape, written out: its callback would be a new closure on every request.
    const denied = callbacks.checkAuth(target.host, asked)
    return denied instanceof Promise
      ? denied.then((later) => later ?? serve(scheme, target, url, asked))
      : (denied ?? serve(scheme, target, url, asked))
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
      const path = pathOf(url)
      return { kind: 'serve', path, host, scheme, proxyHost: route, route, fullUrl: url }
    }
    if (pureResolver) {
      // A checked prefix before a normalised URL: nothing to refuse, nothing that can throw.
      const path = (resolver as FixedResolver).resolve(url)
      return { kind: 'serve', path, host, scheme, proxyHost, route: undefined, fullUrl: url }
    }
    const path = callbacks.resolve(url, request as () => Request, target.host)
    return path instanceof Promise
      ? path.then((later) => resolvedTo(later, host, scheme, url))
      : resolvedTo(path, host, scheme, url)
  }

  /** The decision for the resolver's answer: serve at `path`, or its refusal. */
  const resolvedTo = (
    path: string | Refusal,
    host: string,
    scheme: string,
    fullUrl: string
  ): Admission =>
    typeof path === 'string'
      ? { kind: 'serve', path, host, scheme, proxyHost, route: undefined, fullUrl }
      : path

  /** An SNI name other than the tunnel's host: admitted only if the tunnel's credentials are. */
  const admitOtherName = async (tunnel: TunnelIdentity, name: string): Promise<string> => {
    const url = `${originOf('https', name, tunnel.port)}/`
    const denied = await callbacks.checkAuth(name, () => authRequest(url, tunnel.authorization))
    if (denied) {
      const why = denied.kind === 'challenge' ? 'it asks for other credentials' : denied.message
      throw new Error(`SNI name ${name} is not admitted for the tunnel to ${tunnel.host}: ${why}`)
    }
    return name
  }

  // Neither check looks at the request: a connection asking again gets its last decision.
  let last = needsRequest ? undefined : new LastDecisions()

  const admitDirect = (
    request: AskedRequest,
    target: string,
    method: string
  ): Settled<Admission> => {
    if (target.startsWith('/')) {
      return admitOriginForm(request, target, method, publicPages)
    }
    // A direct connection is its socket.
    const connection = request.socket ?? undefined
    const known = connection && last?.get(connection, request, target, method, undefined)
    if (known) {
      return known
    }
    const absolute = parseAbsoluteTarget(target)
    const decided = !absolute
      ? refuse(400, `Invalid request target: ${quote(target)}`)
      : absolute instanceof Error
        ? refuse(400, absolute.message)
        : admitTarget(absolute.scheme, absolute, absolute.path, request, method, proxyAuth(request))
    if (connection && last && !(decided instanceof Promise)) {
      last.set(connection, request, target, method, undefined, decided)
    }
    return decided
  }

  return {
    addProxyHost(host) {
      proxyHosts.add(host)
      last &&= new LastDecisions()
    },
    admitTunnel(inside, target, authorization) {
      if (inside) {
        return NESTED_CONNECT
      }
      const authority = parseAuthority(target)
      if (!authority) {
        return refuse(400, `Invalid CONNECT target: ${quote(target)}`)
      }
      // Fetch cannot carry CONNECT: the resolver sees a GET of the tunnel's https origin.
      const url = `${originOf('https', authority.host, authority.port)}/`
      return andThen(
        callbacks.checkAuth(authority.host, () => authRequest(url, authorization)),
        (denied) => denied ?? { kind: 'open', ...authority }
      )
    },

    admitAnonymous() {
      const url = `${originOf('https', proxyHost, 443)}/`
      return callbacks.checkAuth(proxyHost, () => authRequest(url, undefined))
    },

    admitName(tunnel, servername) {
      const name = validHost(servername)
      if (name === undefined) {
        return Promise.reject(new Error(`Invalid SNI name ${quote(servername)}`))
      }
      // The tunnel's own host was admitted with the tunnel.
      return name === tunnel.host ? name : admitOtherName(tunnel, name)
    },

    admitRequest(tunnel, request) {
      // Before any kept decision: one was made on the first of the Host lines only.
      const badHost = hostHeaderRefusal(request)
      if (badHost) {
        return badHost
      }
      const target = request.url ?? ''
      const method = request.method ?? 'GET'
      if (!tunnel) {
        return admitDirect(request, target, method)
      }
      const known = last?.get(tunnel, request, target, method, tunnel.sni)
      if (known) {
        return known
      }
      const path = pathInTunnel(tunnel, request, target, method)
      if (typeof path !== 'string') {
        return path
      }
      const authority = { host: tunnel.sni ?? tunnel.host, port: tunnel.port }
      // Credentials belong to the tunnel: one sent inside it is never used.
      const decision = admitTarget(
        tunnel.scheme,
        authority,
        path,
        request,
        method,
        tunnel.authorization
      )
      if (last && !(decision instanceof Promise)) {
        last.set(tunnel, request, target, method, tunnel.sni, decision)
      }
      return decision
    },
  }
}

/** The credentials a direct request sends the proxy. */
function proxyAuth(request: AskedRequest): string | undefined {
  return firstValue(request.headers['proxy-authorization'])
}
