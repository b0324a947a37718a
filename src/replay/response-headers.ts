/**
 * The status and headers of a replayed capture, repaired so that Node and Fetch can send them
 * and they describe the body actually sent.
 * @module
 */

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) and the framing headers this module sets itself
 * from the body it sends (`Content-Length`, `Content-Encoding`, `Content-Range`).
 */
const DROPPED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-encoding',
  'content-range',
])

/** The status sent for a captured one. */
export interface SentStatus {
  status: number
  /** The captured status line, when it could not be sent as is. */
  captured?: string
}

/**
 * Fetch can only send 200 to 599. Anything else in an archive (a final `1xx`, LinkedIn's `999`,
 * a missing or garbled status) is sent as `502`, with the captured status line in
 * `X-Archive-Status` and the captured headers and body unchanged.
 */
export function sendableStatus(statusline: string | undefined, code: unknown): SentStatus {
  const status = Number(code)
  if (Number.isInteger(status) && status >= 200 && status <= 599) {
    return { status }
  }
  return { status: 502, captured: utf8Bytes((statusline ?? String(code)).trim()) || 'none' }
}

/** Statuses whose responses have no body (RFC 9110): Fetch refuses one. */
export function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304
}

/** A captured HTTP head as warcio parses it. */
export interface CapturedHead {
  headers: Iterable<[string, string]>
  /** The names whose values warcio kept as their bytes (see {@link wireValue}). */
  reencodeHeaders?: ReadonlySet<string> | undefined
}

/**
 * The captured headers minus hop-by-hop and framing ones (and any named in `Connection`),
 * skipping any header Fetch would refuse (a bad name or value); each value as its captured bytes.
 */
export function replayHeaders(captured: CapturedHead): Headers {
  const entries = wireEntries(captured)
  const headers = new Headers()
  const listed = new Set(
    entries
      .filter(([name]) => name.toLowerCase() === 'connection')
      .flatMap(([, value]) => value.split(',').map((token) => token.trim().toLowerCase()))
  )
  for (const [name, value] of entries) {
    const lower = name.toLowerCase()
    if (!DROPPED.has(lower) && !listed.has(lower)) {
      append(headers, name, value)
    }
  }
  return headers
}

/**
 * The captured headers as Fetch Headers, without those Fetch refuses; each value as its captured
 * bytes, to be read as text with {@link headerText}.
 */
export function validHeaders(captured: CapturedHead | undefined): Headers {
  const headers = new Headers()
  for (const [name, value] of captured ? wireEntries(captured) : []) {
    append(headers, name, value)
  }
  return headers
}

/**
 * A header value as the bytes it was captured with, one character a byte: what Node writes.
 * warcio reads a head as UTF-8 text and keeps as such a value Fetch's Headers can hold, `é`
 * (U+00E9, two bytes on the wire) included; only one holding a character past U+00FF is kept as
 * its bytes (its name in `reencodeHeaders`). Written as text, `Location: /café` would go out as
 * the one byte E9, which Chromium, reading the header as UTF-8, follows to `/caf%EF%BF%BD`
 * rather than to `/caf%C3%A9`, the URL the crawler followed and captured.
 */
function wireEntries(captured: CapturedHead): [string, string][] {
  const kept = captured.reencodeHeaders
  return [...captured.headers].map(([name, value]) => [
    name,
    kept?.has(name.toLowerCase()) ? value : utf8Bytes(value),
  ])
}

/** `text` as its UTF-8 bytes, one character a byte. */
function utf8Bytes(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text
}

/** A header value (its bytes, one character a byte) as the text a browser reads in it: UTF-8. */
export function headerText(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value
}

/** Any character but printable ASCII and tab; ASCII control characters convert to themselves. */
const NON_ASCII = /[^\u0020-\u007e\t]/

function append(headers: Headers, name: string, value: string): void {
  try {
    headers.append(name, value)
  } catch {
    // An invalid name or value was captured as is; a client could not use it either.
  }
}

/**
 * Make the captured cookies that were still alive when captured (at `capturedAt`, in seconds
 * since the epoch) session cookies, by dropping their `Expires` and `Max-Age`: an `Expires` is a
 * date, most often days after the capture and so long past at replay, and the browser would drop
 * the cookie the archived page set for its next pages to read. pywb does the same. A cookie the
 * site deleted (an `Expires` not after the capture, a `Max-Age` of 0 or less) is kept as it is,
 * so it still deletes.
 */
export function sessionCookies(headers: Headers, capturedAt: number): void {
  const cookies = headers.getSetCookie()
  if (cookies.length === 0) {
    return
  }
  headers.delete('set-cookie')
  for (const cookie of cookies) {
    headers.append('Set-Cookie', sessionCookie(cookie, capturedAt * 1000))
  }
}

function sessionCookie(cookie: string, capturedAtMs: number): string {
  const [pair = '', ...attributes] = cookie.split(';')
  let maxAge: number | undefined
  let expires: number | undefined
  const kept = attributes.filter((attribute) => {
    const equals = attribute.indexOf('=')
    const name = (equals === -1 ? attribute : attribute.slice(0, equals)).trim().toLowerCase()
    const value = equals === -1 ? '' : attribute.slice(equals + 1).trim()
    if (name === 'max-age') {
      maxAge = Number(value)
    } else if (name === 'expires') {
      expires = Date.parse(value)
    }
    return name !== 'max-age' && name !== 'expires'
  })
  // RFC 6265 section 5.3: Max-Age wins over Expires.
  const deleted =
    maxAge !== undefined ? maxAge <= 0 : expires !== undefined && expires <= capturedAtMs
  return deleted ? cookie : [pair, ...kept].join(';')
}
