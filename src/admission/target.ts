/**
 * Pure parsing of what a client names: an authority (a CONNECT target, a Host header, the host of
 * an absolute URL), an absolute-form request target, and the full URL normalised as browsers
 * normalise it. No sockets, no requests: every function here is table-tested.
 * @module
 */
import { normalizeHost } from '../ca/hostname'
import { InvalidHostError } from '../errors'
import { LruCache } from '../util/lru-cache'
import { hostFromWire } from './wire-host'

/** The ports a URL leaves out (RFC 9110 §4.2). */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 }

/** A host, normalised by the one host validator, and a port. */
export interface Authority {
  /** Lower case, punycode, no trailing dot; IPv6 without brackets. */
  host: string
  port: number
}

/** What an absolute-form request target names. */
export interface AbsoluteTarget extends Authority {
  scheme: 'http' | 'https'
  /** Origin-form path and query, as sent (not yet normalised). */
  path: string
}

// The host part may be anything but ':' (and brackets) outside brackets; the validator decides.
// The port may be empty (`example.com:`), which names the scheme's default (RFC 9110 §4.2.3).
const HOST_PORT = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(\d{0,5}))?$/
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)([^#]*)/i

/**
 * Parse `host[:port]` as a client sent it (bytes as Latin-1 text; a raw UTF-8 name is read as
 * UTF-8, bytes that are not UTF-8 are refused). The host goes through the one host validator (DNS names, IPv4, bracketed
 * IPv6); anything else, a port outside 1-65535, or no port (or an empty one) without a default
 * gives `undefined`.
 * @example parseAuthority('Example.COM:8443') // { host: 'example.com', port: 8443 }
 */
export function parseAuthority(authority: string, defaultPort?: number): Authority | undefined {
  // Off the wire, as Latin-1 text of its bytes: a raw UTF-8 name is read as UTF-8.
  const text = hostFromWire(authority)
  const match = text === undefined ? null : HOST_PORT.exec(text)
  if (!match) {
    return undefined
  }
  const port = match[3] === undefined || match[3] === '' ? defaultPort : Number(match[3])
  if (port === undefined || port < 1 || port > 65535) {
    return undefined
  }
  const host = validHost(match[1] === undefined ? (match[2] ?? '') : `[${match[1]}]`)
  return host === undefined ? undefined : { host, port }
}

/**
 * Hosts validated lately, and what the validator made of them (`null`: refused). Every request
 * names its host again (Host, an absolute URL), mostly one of a few; the bound keeps a client
 * that sends many names from growing it.
 */
const validated = new LruCache<string, string | null>(1024)

/** The normalised name of `host`, or `undefined` when the validator refuses it. */
export function validHost(host: string): string | undefined {
  const known = validated.get(host)
  if (known !== undefined) {
    return known ?? undefined
  }
  let name: string | null
  try {
    name = normalizeHost(host).name
  } catch (error) {
    if (!(error instanceof InvalidHostError)) {
      throw error
    }
    name = null
  }
  validated.set(host, name)
  return name ?? undefined
}

/**
 * Parse an absolute-form request target (`http://example.com:8000/a?b`, RFC 9112 §3.2.2).
 * Returns `undefined` for a target that is not absolute-form, and an Error that says why for one
 * that is but cannot be served. A URL that leaves its port out gets `defaultPort`, the scheme's
 * default unless told: a port written out, the default included, is always the one given.
 */
export function parseAbsoluteTarget(
  target: string,
  defaultPort?: number
): AbsoluteTarget | Error | undefined {
  const match = ABSOLUTE_URL.exec(target)
  if (!match) {
    return undefined
  }
  const scheme = (match[1] ?? '').toLowerCase() as 'http' | 'https'
  const authority = parseAuthority(match[2] ?? '', defaultPort ?? DEFAULT_PORTS[scheme])
  if (!authority) {
    return new Error(`Invalid absolute URL: ${JSON.stringify(target.slice(0, 200))}`)
  }
  const rest = match[3] ?? ''
  const { host, port } = authority
  return { scheme, host, port, path: rest.startsWith('/') ? rest : `/${rest}` }
}

/** A host as URLs and authorities write it: an IPv6 address in brackets. */
export function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** A socket's address as the host of a URL: IPv4-mapped IPv6 as IPv4, other IPv6 bracketed. */
export function addressHost(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped?.[1] ?? bracketed(address)
}

/** `scheme://host[:port]`, the port only when it is not the scheme's default. */
export function originOf(scheme: string, host: string, port: number): string {
  return `${scheme}://${hostPort(scheme, host, port)}`
}

/** `host[:port]` as a Host header carries it: brackets around IPv6, no default port. */
export function hostPort(scheme: string, host: string, port: number): string {
  const name = bracketed(host)
  return port === DEFAULT_PORTS[scheme] ? name : `${name}:${port}`
}

// Paths WHATWG URL would give back as they are: no backslash, no %2e, no '.' or '..' segment, and
// only characters it never percent-encodes. Others take the slow path through `new URL`.
const PLAIN_PATH = /^\/[\w\-.~!$&()*+,;=:@/%?]*$/
const MAYBE_DOT_SEGMENT = /\/\.|%2e/i

/**
 * The full URL of `path` on `origin`, normalised as browsers do (WHATWG URL): dot segments and
 * `%2e%2e` removed, backslashes read as slashes, characters percent-encoded where URLs require it.
 * A resolver therefore never sees a path that climbs out of the URL it is given.
 * @example fullUrl('http://example.com', '/a/../../b?c') // 'http://example.com/b?c'
 */
export function fullUrl(origin: string, path: string): string {
  if (PLAIN_PATH.test(path) && !MAYBE_DOT_SEGMENT.test(path)) {
    return origin + path
  }
  const url = new URL(origin + path)
  const pathname = hasDotSegment(url.pathname) ? removeDotSegments(url.pathname) : url.pathname
  return `${origin}${pathname}${url.search}`
}

/**
 * RFC 3986 §5.2.4 on a path URL parsing has left dot segments in: Node 20's parser keeps all of
 * them after a segment, other than the first, that starts with '.' (`/a/.b/../../x`).
 */
function removeDotSegments(pathname: string): string {
  const kept: string[] = []
  const segments = pathname.split('/').slice(1)
  segments.forEach((segment, i) => {
    const dots = DOT_SEGMENT.test(segment) ? segment.replace(/%2e/gi, '.').length : 0
    if (dots === 2) {
      kept.pop()
    }
    if (dots === 0) {
      kept.push(segment)
    } else if (i === segments.length - 1) {
      kept.push('')
    }
  })
  return `/${kept.join('/')}`
}

/** The origin-form path and query of a normalised full URL. */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  return start === -1 ? '/' : url.slice(start)
}

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const CONTROL_OR_FRAGMENT = /[\x00-\x20\x7f#]/
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i
/** A segment (between slashes, or at either end) that is one or two dots, `%2e` counting as one. */
const DOT_SEGMENT_IN_PATH = /(?:^|\/)(?:\.|%2e){1,2}(?=\/|$)/i

/**
 * Why `path`, a resolver's answer, cannot be what the app sees, or `undefined` when it can.
 * It must start with '/'; a dot segment or a backslash before the query would let URL parsing
 * climb out of what the resolver chose (`/../x` becomes `/x`), and a '#', a space or a control
 * character would cut it short or change it.
 */
export function unsafePathReason(path: unknown): string | undefined {
  if (typeof path !== 'string') {
    return `the resolver returned ${describe(path)}, not a path`
  }
  if (!path.startsWith('/')) {
    return 'the resolver returned a path that does not start with /'
  }
  if (CONTROL_OR_FRAGMENT.test(path)) {
    return "the resolver returned a path with a space, '#' or a control character"
  }
  const query = path.indexOf('?')
  const beforeQuery = query === -1 ? path : path.slice(0, query)
  if (beforeQuery.includes('\\')) {
    return 'the resolver returned a path with a backslash'
  }
  if (hasDotSegment(beforeQuery)) {
    return "the resolver returned a path with a '.' or '..' segment"
  }
  return undefined
}

/** Whether URL parsing would remove a segment of `path` (`.`, `..`, `%2e`, `.%2E`, ...). */
export function hasDotSegment(path: string): boolean {
  return DOT_SEGMENT_IN_PATH.test(path)
}

/** A short description of a value of the wrong type, for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) {
    return String(value)
  }
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  }
  if (Array.isArray(value)) {
    return 'an array'
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
