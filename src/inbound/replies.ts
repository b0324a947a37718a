/**
 * Every answer the proxy writes itself (400, 407, 421, 500, 501, 405), on a `ServerResponse` or on
 * a raw socket, in one shape: a one-line plain-text reason, and the closing of the connection
 * where the request's bytes can no longer be trusted.
 * @module
 */
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

/** Header name → value pairs of a reply. */
export type ReplyHeaders = Record<string, string>

const TEXT = 'text/plain; charset=utf-8'

/**
 * How long a socket answered and half-closed here may wait for the client to close its side.
 * Destroying at once could reset the connection while the client still sends (a body the proxy
 * never reads), and a reset may discard the answer before the client reads it.
 */
const LINGER_MS = 2_000

/** The `Proxy-Authenticate` value asking for Basic credentials in `realm`. */
export function basicChallenge(realm: string): string {
  // A realm is a quoted-string (RFC 9110 §11.5): quotes and backslashes escaped, and no control or
  // non-Latin-1 character, which could split or break the header line.
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  const safe = realm.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/[^\x20-\xff]/g, '?')
  return `Basic realm="${safe.replace(/["\\]/g, '\\$&')}"`
}

/** The headers of a 407 asking for `realm`. */
export function challengeHeaders(realm: string): ReplyHeaders {
  return { 'Proxy-Authenticate': basicChallenge(realm) }
}

/** An HTTP/1 or HTTP/2 response, as far as a reply writes to it. */
export interface ReplyTarget {
  readonly headersSent: boolean
  shouldKeepAlive?: boolean
  setHeader(name: string, value: string): unknown
  writeHead(status: number): unknown
  end(body: string): unknown
  destroy(): unknown
}

/** Answer `res` with `status` and a one-line reason; `close` ends the connection after it. */
export function reply(
  res: ReplyTarget,
  status: number,
  reason: string,
  headers: ReplyHeaders = {},
  close = false
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (close && res.shouldKeepAlive !== undefined) {
    res.shouldKeepAlive = false
  }
  const body = `${oneLine(reason)}\n`
  // Set one by one rather than given to writeHead, which would send them without keeping them:
  // the access log reads the reply's length back from its Content-Length.
  for (const [name, value] of Object.entries(headers)) {
    res.setHeader(name, value)
  }
  res.setHeader('Content-Type', TEXT)
  res.setHeader('Content-Length', String(Buffer.byteLength(body)))
  res.writeHead(status)
  res.end(body)
}

/**
 * Answer on a raw socket, where no `ServerResponse` exists (CONNECT, upgrades), and close it.
 * `statusText` overrides the standard reason phrase.
 */
export function replyOnSocket(
  socket: Duplex,
  status: number,
  reason: string,
  headers: ReplyHeaders = {},
  statusText = STATUS_CODES[status] ?? ''
): number | undefined {
  if (socket.destroyed || !socket.writable) {
    socket.destroy()
    return undefined
  }
  const body = `${oneLine(reason)}\n`
  const head = [`HTTP/1.1 ${status} ${statusText}`]
  for (const [name, value] of Object.entries(headers)) {
    head.push(`${name}: ${value}`)
  }
  head.push(
    `Content-Type: ${TEXT}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close'
  )
  // The head is Latin-1, as HTTP/1.1 field values are; the reason is UTF-8 text.
  const bodyBytes = Buffer.from(body)
  endSocket(
    socket,
    Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), bodyBytes])
  )
  return bodyBytes.length
}

/** Write `bytes` as the last thing on `socket`, and close it once the client has had them. */
export function endSocket(socket: Duplex, bytes: Buffer): void {
  // A client that never closes its side must not hold the socket for ever.
  socket.once('finish', () => {
    setTimeout(() => socket.destroy(), LINGER_MS).unref()
  })
  socket.end(bytes)
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}
