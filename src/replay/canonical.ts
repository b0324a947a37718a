/**
 * Lookup keys for archived URLs, the way pywb finds a capture: a request matches a capture
 * whatever its scheme, default port, empty query (`?`), query order or letter case, and a
 * second, looser key also ignores cache-busting parameters.
 * @module
 */
import { hash } from 'node:crypto'

/**
 * Query parameters that only defeat caches (jQuery's `_=<time>` and its cousins), with or
 * without leading underscores (`__rnd`), and those naming a JSONP callback, whose answer is
 * renamed to the callback the request names. The loose key drops them, and so does any
 * parameter whose value is a Unix time in seconds (10 digits) or milliseconds (13 digits), with
 * or without a fraction, a `Math.random()` (`0.` and at least 6 digits), or a name jQuery makes
 * up for a callback (`jQuery123_456`): what scripts append to make each request unique.
 */
export const CACHE_BUSTING_PARAMS: ReadonlySet<string> = new Set([
  '_',
  'cb',
  'cachebust',
  'cachebuster',
  'cache_bust',
  'cache_buster',
  'nocache',
  'rand',
  'rnd',
  'random',
  'callback',
  'jsonp',
  'jsoncallback',
])

/** Values only made to be unique, lower-cased as keys are. */
const UNIQUE_VALUE = /^(\d{10}(\d{3})?(\.\d+)?|0\.\d{6,}|jquery\d+_\d+)$/

/** The two keys of a URL: `exact` (canonical) and `loose` (also without cache-busting parameters). */
export interface UrlKeys {
  exact: string
  loose: string
}

/**
 * The canonical key of `url`: no scheme, a lower-case host without a leading `www.` and with
 * its port only when not 80 or 443, the path, and the query parameters sorted, all lower-cased
 * (as pywb's SURT keys are) and with unreserved characters unescaped; no fragment and no empty
 * `?`.
 */
export function urlKeys(url: string): UrlKeys {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    const raw = url.toLowerCase()
    return { exact: raw, loose: raw }
  }
  const host = parsed.hostname.replace(/^www\d*\./, '')
  const port =
    parsed.port === '' || parsed.port === '80' || parsed.port === '443' ? '' : `:${parsed.port}`
  const base = `${host}${port}${unreserved(parsed.pathname)}`.toLowerCase()
  const params = unreserved(parsed.search)
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
  if (params.length === 0) {
    return { exact: base, loose: base }
  }
  const sorted = params.map((part) => part.toLowerCase()).sort()
  const kept = sorted.filter((part) => !isCacheBusting(part))
  return {
    exact: `${base}?${sorted.join('&')}`,
    loose: kept.length > 0 ? `${base}?${kept.join('&')}` : base,
  }
}

/**
 * `text` with percent-encoded unreserved characters (letters, digits, `-`, `.`, `_`, `~`) decoded:
 * RFC 3986 section 6.2.2.2 makes `/%7Euser/` and `/~user/` the same URL, but a crawler may have
 * recorded one where a page links the other.
 */
function unreserved(text: string): string {
  return text.includes('%')
    ? text.replace(/%([0-9a-f]{2})/gi, (escaped, hex: string) => {
        const char = String.fromCharCode(parseInt(hex, 16))
        return /^[A-Za-z0-9._~-]$/.test(char) ? char : escaped
      })
    : text
}

function isCacheBusting(part: string): boolean {
  const equals = part.indexOf('=')
  const name = equals === -1 ? part : part.slice(0, equals)
  return (
    CACHE_BUSTING_PARAMS.has(name.replace(/^_+(?=.)/, '')) ||
    (equals !== -1 && UNIQUE_VALUE.test(part.slice(equals + 1)))
  )
}

/** A 64-bit digest of a key as two 32-bit halves: the index stores these, not the strings. */
export function keyHash(key: string): [number, number] {
  const digest = hash('sha1', key, 'buffer')
  return [digest.readUInt32BE(0), digest.readUInt32BE(4)]
}

/** A URL key without the slash that ends its path (`host/docs/?q` is `host/docs?q`). */
export const slashless = (key: string) => key.replace(/\/(?=\?|$)/, '')
