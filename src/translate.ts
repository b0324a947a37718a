/**
 * Translation: from what the client asked for (an absolute-form URL, or a path inside a tunnel)
 * to what the app sees (a path from the resolver, or the path itself on a proxy host), and the
 * in-place rewrite of the Node request that @hono/node-server then reads.
 * @module
 */
import type { IncomingMessage } from 'node:http'

/** The header that tells the app which proxy host a request came through. */
export const PROXY_HOST_HEADER = 'x-wsgiprox-proxy-host'

/**
 * Headers the app never sees: credentials meant for the proxy, a hop-by-hop header, and a
 * proxy-host header the client may have forged.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-proxy-authorization
 */
const STRIPPED_HEADERS = new Set(['proxy-authorization', 'proxy-connection', PROXY_HOST_HEADER])

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 }

/** What a tunnel knows of its target, recorded at CONNECT time. */
export interface TunnelInfo {
  /** The CONNECT host, normalized: lower case, IPv6 without brackets. */
  host: string
  port: number
  /** `Proxy-Authorization` of the CONNECT, for resolvers of requests inside the tunnel. */
  proxyAuthorization: string | undefined
}

/** Where a proxied request goes. */
export interface Target {
  scheme: string
  /** Lower case; IPv6 without brackets. */
  host: string
  port: number
  /** Origin-form path and query, as the client sent it. */
  path: string
}

/** The outcome of translating one request. */
export type Translation =
  | { kind: 'passthrough' }
  | { kind: 'proxy'; proxyHost: string; matchedHost: string | undefined; fullUrl: string }
  | { kind: 'error'; status: number; message: string }

/** The proxy hosts and the resolver: all that translation depends on. */
export interface TranslateContext {
  proxyHost: string
  /** Every host whose requests stay untranslated: proxy host, download host, proxy apps. */
  proxyHosts: ReadonlySet<string>
  /**
   * The resolver, called with what it needs to build the Request it may look at (see
   * {@link resolverRequest}); resolvers that never look at it cost no Request.
   */
  resolve(
    url: string,
    incoming: IncomingMessage,
    tunnel: TunnelInfo | undefined
  ): string | Promise<string>
}

const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)([^#]*)/i
const HOST_PORT = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+))(?::(\d{1,5}))?$/i

/**
 * Parse `host[:port]` as in a CONNECT line or an absolute URL.
 * Returns undefined for anything that is not a plain host name, IPv4 or bracketed IPv6.
 */
export function parseAuthority(authority: string, defaultPort: number | undefined) {
  const match = HOST_PORT.exec(authority)
  if (!match) {
    return undefined
  }
  const lower = (match[1] ?? match[2] ?? '').toLowerCase()
  const host = lower.endsWith('.') ? lower.slice(0, -1) : lower
  const port = match[3] === undefined ? defaultPort : Number(match[3])
  if (host === '' || port === undefined || port < 1 || port > 65535) {
    return undefined
  }
  if (match[1] !== undefined && !match[1].includes(':')) {
    return undefined
  }
  return { host, port }
}

/** The target of a proxied request, or undefined for an origin-form request outside a tunnel. */
export function targetOf(
  url: string,
  tunnel: TunnelInfo | undefined,
  encrypted: boolean,
  servername: string | undefined
): Target | Error | undefined {
  const absolute = ABSOLUTE_URL.exec(url)
  if (absolute) {
    const scheme = (absolute[1] ?? 'http').toLowerCase()
    const authority = absolute[2] ?? ''
    const parsed = parseAuthority(authority, DEFAULT_PORTS[scheme])
    if (!parsed) {
      return new Error(`Invalid absolute URL: ${JSON.stringify(url.slice(0, 200))}`)
    }
    const rest = absolute[3] ?? ''
    return { scheme, ...parsed, path: rest.startsWith('/') ? rest : `/${rest}` }
  }
  if (!tunnel) {
    return undefined
  }
  if (!url.startsWith('/')) {
    return new Error(`Invalid request target in tunnel: ${JSON.stringify(url.slice(0, 200))}`)
  }
  // Clients that CONNECT to an IP address and then name the real host in SNI: the name wins,
  // for the certificate and for the URL.
  const host = encrypted && servername ? servername.toLowerCase() : tunnel.host
  return { scheme: encrypted ? 'https' : 'http', host, port: tunnel.port, path: url }
}

/** `scheme://host[:port]`, the port only when it is not the scheme's default. */
export function originOf(target: Pick<Target, 'scheme' | 'host' | 'port'>): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  const port = target.port === DEFAULT_PORTS[target.scheme] ? '' : `:${target.port}`
  return `${target.scheme}://${host}${port}`
}

/**
 * Translate `incoming` in place, so that @hono/node-server builds the Request the app should
 * see: `url`, `rawHeaders` and `headers` change together (node-server reads `rawHeaders` for
 * requests but `headers` for WebSocket upgrades, so a header left on one would leak).
 */
export function translate(
  incoming: IncomingMessage,
  tunnel: TunnelInfo | undefined,
  context: TranslateContext
): Translation | Promise<Translation> {
  const socket = incoming.socket as IncomingMessage['socket'] & { servername?: string | false }
  const encrypted = 'encrypted' in socket && socket.encrypted === true
  // servername is false on TLS sockets whose client sent no SNI.
  const servername = socket.servername === false ? undefined : socket.servername
  const target = targetOf(incoming.url ?? '/', tunnel, encrypted, servername)
  if (target instanceof Error) {
    return { kind: 'error', status: 400, message: target.message }
  }
  if (!target) {
    rewriteHeaders(incoming, undefined, undefined)
    return { kind: 'passthrough' }
  }
  const origin = originOf(target)
  // An absolute-form target overrides any Host header (RFC 9112 §3.2.2); inside a tunnel the
  // client's Host stays, and is only added when an HTTP/1.0 client left it out.
  const isAbsolute = incoming.url !== target.path
  const hostValue = origin.slice(origin.indexOf('//') + 2)
  if (context.proxyHosts.has(target.host)) {
    incoming.url = target.path
    rewriteHeaders(incoming, target.host, isAbsolute ? hostValue : undefined, hostValue)
    return {
      kind: 'proxy',
      proxyHost: target.host,
      matchedHost: target.host,
      fullUrl: origin + target.path,
    }
  }
  const fullUrl = origin + target.path
  const replaceHost = isAbsolute ? hostValue : undefined
  const path = context.resolve(fullUrl, incoming, tunnel)
  if (typeof path === 'string') {
    return applyPath(incoming, path, context.proxyHost, replaceHost, hostValue, fullUrl)
  }
  return Promise.resolve(path).then((resolved) =>
    applyPath(incoming, resolved, context.proxyHost, replaceHost, hostValue, fullUrl)
  )
}

/** Point `incoming` at the resolver's `path` and mark it as proxied through `proxyHost`. */
function applyPath(
  incoming: IncomingMessage,
  path: unknown,
  proxyHost: string,
  replaceHost: string | undefined,
  hostValue: string,
  fullUrl: string
): Translation {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    return {
      kind: 'error',
      status: 500,
      message: 'The resolver returned a path that does not start with /',
    }
  }
  incoming.url = path
  rewriteHeaders(incoming, proxyHost, replaceHost, hostValue)
  return { kind: 'proxy', proxyHost, matchedHost: undefined, fullUrl }
}

/**
 * Strip what the app must not see and set the proxy-host header, in `rawHeaders` and `headers`
 * alike. `host` replaces the Host header; `fallbackHost` is used only when there is none.
 */
function rewriteHeaders(
  incoming: IncomingMessage,
  proxyHost: string | undefined,
  host: string | undefined,
  fallbackHost?: string
): void {
  const raw = incoming.rawHeaders
  const kept: string[] = []
  let sawHost = false
  let changed = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const lower = name.toLowerCase()
    if (STRIPPED_HEADERS.has(lower)) {
      changed = true
      continue
    }
    if (lower === 'host') {
      sawHost = true
      if (host !== undefined) {
        kept.push(name, host)
        changed = true
        continue
      }
    }
    kept.push(name, raw[i + 1] ?? '')
  }
  const headers = incoming.headers
  if (changed) {
    for (const name of STRIPPED_HEADERS) {
      Reflect.deleteProperty(headers, name)
    }
  }
  const addHost = host ?? (sawHost ? undefined : fallbackHost)
  if (addHost !== undefined) {
    headers.host = addHost
    if (!sawHost) {
      kept.push('Host', addHost)
    }
    changed = true
  }
  if (proxyHost !== undefined) {
    kept.push('X-Wsgiprox-Proxy-Host', proxyHost)
    headers[PROXY_HOST_HEADER] = proxyHost
    changed = true
  }
  if (changed) {
    incoming.rawHeaders = kept
  }
}

/** The Request a resolver sees: method, full URL and the client's headers, without a body. */
export function resolverRequest(
  incoming: IncomingMessage,
  fullUrl: string,
  tunnel: TunnelInfo | undefined
) {
  const headers = headersOf(incoming)
  if (tunnel?.proxyAuthorization && !headers.has('proxy-authorization')) {
    headers.set('proxy-authorization', tunnel.proxyAuthorization)
  }
  return requestOf(fullUrl, incoming.method ?? 'GET', headers)
}

/** A body-less Request; methods Fetch forbids (CONNECT, TRACE) are shown as GET. */
export function requestOf(url: string, method: string, headers: Headers): Request {
  try {
    return new Request(url, { method, headers })
  } catch {
    return new Request(url, { method: 'GET', headers })
  }
}

/** A Headers copy of what the client sent. */
export function headersOf(incoming: IncomingMessage): Headers {
  const headers = new Headers()
  const raw = incoming.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    headers.append(raw[i] ?? '', raw[i + 1] ?? '')
  }
  return headers
}

/** Remove what the app must never see from a Fetch `Headers` (the Fetch-only entry's path). */
export function stripProxyHeaders(headers: Headers): void {
  for (const name of STRIPPED_HEADERS) {
    headers.delete(name)
  }
}
