/**
 * The in-place rewrite of an admitted Node request, so that @hono/node-server builds the Request
 * the app should see: the path admission chose, the admitted Host, the proxy-host header, and
 * none of the headers meant for the proxy.
 * @module
 */
import { addressHost, hostPort } from '../admission/target'
import { lengthsOf } from '../util/name-lengths'

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

/** Passthrough requests keep their path and Host; only the proxy's headers go. */
export const PASSTHROUGH: Rewrite = {}

/** What the rewrite of a passthrough request reads: its Host and the address it reached. */
interface PassthroughRequest {
  headers: { host?: string | undefined }
  socket: { localAddress?: string | undefined; localPort?: number | undefined }
}

/**
 * The rewrite of a passthrough request: none, but for an HTTP/1.0 request that names no host,
 * which gets the address it reached as its Host (as a CGI server names itself), so that the app
 * can be given a URL at all.
 */
export function passthroughRewrite(req: PassthroughRequest): Rewrite {
  const { localAddress, localPort } = req.socket
  if (req.headers.host !== undefined || localAddress === undefined || localPort === undefined) {
    return PASSTHROUGH
  }
  return { host: hostPort('http', addressHost(localAddress), localPort) }
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
 * would leak. `rawHeaders` is copied only from the first header that goes or changes: most
 * requests keep every header and only gain the proxy-host one.
 */
export function rewriteRequest(incoming: RewritableRequest, rewrite: Rewrite): void {
  const { path, host, proxyHost, scheme } = rewrite
  const http2 = incoming.httpVersionMajor === 2
  if (path !== undefined) {
    incoming.url = path
  }
  // HTTP/2 names the host in :authority; node-server reads it before Host.
  const hostName = http2 ? ':authority' : 'host'
  const raw = incoming.rawHeaders
  let kept: string[] | undefined
  let sawHost = false
  // The stripped headers that came: only those are deleted from `headers` (deleting one that is
  // not there still costs the object its fast properties).
  let stripped: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const value = raw[i + 1] ?? ''
    const role = roleOf(name)
    let outName = name
    let outValue: string | undefined = value
    let changed = false
    if (role === STRIPPED) {
      ;(stripped ??= []).push(name.toLowerCase())
      outValue = undefined
      changed = true
    } else if (role === HOST && host !== undefined) {
      // One host, the admitted one (RFC 9112 §3.2.2: an absolute-form target overrides Host).
      outValue = sawHost ? undefined : host
      outName = hostName
      // A host kept as it came keeps its name's case; HTTP/2's Host becomes :authority.
      changed = outValue !== value || (http2 && name !== hostName)
      sawHost = true
    } else if (role === SCHEME && http2 && scheme !== undefined) {
      outValue = scheme
      // Most often the same: then nothing is copied (an HTTP/2 request's headers are replaced
      // in place, which costs a splice of them all).
      changed = outValue !== value
    }
    if (kept === undefined) {
      if (!changed) {
        continue
      }
      kept = raw.slice(0, i)
    }
    if (outValue !== undefined) {
      kept.push(outName, outValue)
    }
  }
  const headers = incoming.headers
  for (const name of stripped ?? []) {
    Reflect.deleteProperty(headers, name)
  }
  // What is added goes at the end: of the copy, or of the headers as they came.
  const out = kept ?? raw
  if (host !== undefined) {
    // Checked, not assumed from rawHeaders: a repeated host header may have been joined there.
    if (headers[hostName] !== host) {
      headers[hostName] = host
    }
    if (http2) {
      if (!sawHost) {
        out.push(':authority', host)
      }
      // The app sees the same request on every protocol: a Host header over HTTP/2 too, as
      // HTTP/1.1 carries it (RFC 9113 §8.3.1 lets :authority stand in for it on the wire only).
      out.push('host', host)
      headers.host = host
    } else {
      if (':authority' in headers) {
        Reflect.deleteProperty(headers, ':authority')
      }
      if (!sawHost) {
        // HTTP/1.0 clients may send none.
        out.push('Host', host)
      }
    }
  }
  if (http2 && scheme !== undefined) {
    headers[':scheme'] = scheme
  }
  if (proxyHost !== undefined) {
    out.push(http2 ? PROXY_HOST_HEADER : 'X-Wsgiprox-Proxy-Host', proxyHost)
    headers[PROXY_HOST_HEADER] = proxyHost
  }
  if (kept === undefined) {
    return
  }
  if (http2) {
    // In place: an HTTP/2 request's rawHeaders has no setter.
    raw.splice(0, raw.length, ...kept)
  } else {
    incoming.rawHeaders = kept
  }
}

/**
 * HTTP/1 has no `:scheme`: node-server takes the scheme of the URL it builds from the socket,
 * `https` over TLS. An admitted request whose scheme is not its socket's (an absolute `https://`
 * URL sent to the proxy in clear, as older axios releases sent their `HTTPS_PROXY` requests, or
 * an `http://` one sent to the proxy over TLS) gets its url in absolute form, which node-server
 * takes as it is, so the app sees the scheme the client asked for.
 */
export function keepScheme(
  incoming: { url?: string | undefined; socket: unknown },
  scheme: string,
  host: string
): void {
  const encrypted = (incoming.socket as { encrypted?: unknown } | null)?.encrypted === true
  if (scheme !== (encrypted ? 'https' : 'http')) {
    incoming.url = `${scheme}://${host}${incoming.url ?? '/'}`
  }
}

/** The lengths of the stripped names: the others are passed over without being lower-cased. */
const STRIPPED_LENGTHS = lengthsOf(STRIPPED_HEADERS)

const STRIPPED = 1
const HOST = 2
const SCHEME = 3

/**
 * What the rewrite does with a header of this name: strip it, make it the admitted host, or
 * set the scheme. Names are told apart by length before any is lower-cased: the common ones
 * (`User-Agent`, `Accept`, ...) are passed over without allocating.
 */
function roleOf(name: string): number {
  if (STRIPPED_LENGTHS[name.length] === true && STRIPPED_HEADERS.has(name.toLowerCase())) {
    return STRIPPED
  }
  switch (name.length) {
    case 4:
      return name === 'Host' || name === 'host' || name.toLowerCase() === 'host' ? HOST : 0
    case 10:
      // A pseudo-header is lower case (RFC 9113 §8.3); HTTP/1 has none.
      return name === ':authority' ? HOST : 0
    case 7:
      return name === ':scheme' ? SCHEME : 0
    default:
      return 0
  }
}

/** Remove what the app must never see from a Fetch `Headers` (the Fetch-only entry's path). */
export function stripProxyHeaders(headers: Headers): void {
  for (const name of STRIPPED_HEADERS) {
    headers.delete(name)
  }
}
