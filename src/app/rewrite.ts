/**
 * The in-place rewrite of an admitted Node request, so that @hono/node-server builds the Request
 * the app should see: the path admission chose, the admitted Host, the proxy-host header, and
 * none of the headers meant for the proxy.
 * @module
 */

/** The header that tells the app which proxy host a request came through. */
export const PROXY_HOST_HEADER = 'x-wsgiprox-proxy-host'

/**
 * Headers the app never sees: credentials meant for the proxy, a hop-by-hop header, and a
 * proxy-host header the client may have forged.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-proxy-authorization
 */
export const STRIPPED_HEADERS: ReadonlySet<string> = new Set([
  'proxy-authorization',
  'proxy-connection',
  PROXY_HOST_HEADER,
])

/** What the app is to see of an admitted request; all `undefined` for passthrough. */
export interface Rewrite {
  /** The path and query the app sees. */
  path?: string
  /** The Host header the app sees. */
  host?: string
  /** The value of `X-Wsgiprox-Proxy-Host`. */
  proxyHost?: string
  /** The scheme an HTTP/2 request's `:scheme` is set to. */
  scheme?: string
}

/** A Node request of either HTTP version, as far as the rewrite touches it. */
export interface RewritableRequest {
  url?: string | undefined
  httpVersionMajor: number
  rawHeaders: string[]
  headers: Record<string, string | string[] | undefined>
}

/**
 * Rewrite `incoming` in place. `url`, `rawHeaders` and `headers` change together: node-server
 * reads `rawHeaders` for requests but `headers` for WebSocket upgrades, so a header left on one
 * would leak.
 */
export function rewriteRequest(incoming: RewritableRequest, rewrite: Rewrite): void {
  const { path, host, proxyHost } = rewrite
  const http2 = incoming.httpVersionMajor === 2
  if (path !== undefined) {
    incoming.url = path
  }
  // HTTP/2 names the host in :authority; node-server reads it before Host.
  const hostName = http2 ? ':authority' : 'host'
  const raw = incoming.rawHeaders
  const kept: string[] = []
  let changed = false
  let sawHost = false
  // The stripped headers that came: only those are deleted from `headers` (deleting one that is
  // not there still costs the object its fast properties).
  let stripped: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const lower = name.toLowerCase()
    if (STRIPPED_HEADERS.has(lower)) {
      ;(stripped ??= []).push(lower)
      changed = true
      continue
    }
    if (host !== undefined && (lower === 'host' || lower === ':authority')) {
      // One host, the admitted one (RFC 9112 §3.2.2: an absolute-form target overrides Host).
      if (!sawHost) {
        kept.push(hostName, host)
      }
      sawHost = true
      changed = true
      continue
    }
    if (http2 && lower === ':scheme' && rewrite.scheme !== undefined) {
      kept.push(name, rewrite.scheme)
      changed = true
      continue
    }
    kept.push(name, raw[i + 1] ?? '')
  }
  const headers = incoming.headers
  for (const name of stripped ?? []) {
    Reflect.deleteProperty(headers, name)
  }
  if (host !== undefined) {
    headers[hostName] = host
    if (http2) {
      if (!sawHost) {
        kept.push(':authority', host)
      }
      // The app sees the same request on every protocol: a Host header over HTTP/2 too, as
      // HTTP/1.1 carries it (RFC 9113 §8.3.1 lets :authority stand in for it on the wire only).
      kept.push('host', host)
      headers.host = host
    } else {
      if (':authority' in headers) {
        Reflect.deleteProperty(headers, ':authority')
      }
      if (!sawHost) {
        // HTTP/1.0 clients may send none.
        kept.push('Host', host)
      }
    }
    changed = true
  }
  if (http2 && rewrite.scheme !== undefined) {
    headers[':scheme'] = rewrite.scheme
  }
  if (proxyHost !== undefined) {
    kept.push(http2 ? PROXY_HOST_HEADER : 'X-Wsgiprox-Proxy-Host', proxyHost)
    headers[PROXY_HOST_HEADER] = proxyHost
    changed = true
  }
  if (changed && http2) {
    // In place: an HTTP/2 request's rawHeaders has no setter.
    raw.splice(0, raw.length, ...kept)
  } else if (changed) {
    incoming.rawHeaders = kept
  }
}

/** Remove what the app must never see from a Fetch `Headers` (the Fetch-only entry's path). */
export function stripProxyHeaders(headers: Headers): void {
  for (const name of STRIPPED_HEADERS) {
    headers.delete(name)
  }
}
