/**
 * What the kit's apps saw of each request: its headers and (up to a bound) its body, kept for the
 * request's record, as mockttp's seen requests keep them. The body is read from a clone, so the
 * app reads its own as before.
 * @module
 */
import type { Readable } from 'node:stream'
import { OptionsError } from '../errors'
import type { RequestRecord } from '../log/records'
import { requestOfRecord } from '../log/watch'
import { codingsOf } from './content-coding'
import type { RecordedBody } from './recorded-body'
import { recordIncomingBody, recordRequestBody } from './recorded-body'

/** The bytes recorded of each request body when `recordBodyLimit` is not given: 1 MiB. */
export const RECORD_BODY_LIMIT = 1024 * 1024

/** A request record of the test kit: the `onLog` record, and what the app saw. */
export interface TestRequestRecord extends RequestRecord {
  /**
   * The request headers as the first of the kit's apps saw them (no `Proxy-Authorization`);
   * `undefined` when no app saw the request (the proxy answered it itself).
   */
  headers: Headers | undefined
  /**
   * The request body as the client sent it (for a `GET` or `HEAD` too, though the app's `Request`
   * has none); `undefined` without one, with `recordBodyLimit: 0`, or when no app saw it.
   */
  body: RecordedBody | undefined
}

interface Seen {
  /** Node's raw headers of the request the app was given: made a `Headers` only when read. */
  rawHeaders: readonly string[]
  body: RecordedBody | undefined
}

/** Keyed by the request node-server was given (its env's `incoming`), as records are. */
const seenRequests = new WeakMap<object, Seen>()

/** Check the `recordBodyLimit` option. */
export function bodyLimitOption(limit: unknown): number {
  const value = limit ?? RECORD_BODY_LIMIT
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new OptionsError(
      `recordBodyLimit must be a whole number of bytes (0: no bodies), got ${String(limit)}`
    )
  }
  return value
}

/**
 * Keep what an app is about to see of `request`; a request seen before (a fall-through) is kept
 * once. Returns whether its body is being recorded.
 */
export function see(request: Request, env: unknown, bodyLimit: number): boolean {
  const incoming = (env as { incoming?: object } | undefined)?.incoming
  const seen = incoming && seenRequests.get(incoming)
  if (!incoming || seen) {
    return seen?.body !== undefined
  }
  const body = bodyLimit === 0 ? undefined : recordBody(request, incoming, bodyLimit)
  const { rawHeaders } = incoming as { rawHeaders?: string[] }
  seenRequests.set(incoming, { rawHeaders: rawHeaders ?? [], body })
  return body !== undefined
}

/**
 * Record the body of `request`, if it has one. Fetch gives a GET or HEAD no body, though HTTP
 * allows one (search APIs take their query so), so theirs is read from Node's request instead,
 * when its headers announce one; node-server makes a full Request only when its body (or the
 * like) is read, which a GET's never is, so one without costs nothing.
 */
function recordBody(request: Request, incoming: object, limit: number): RecordedBody | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return request.body === null ? undefined : recordRequestBody(request, limit)
  }
  if (!announcesBody(incoming)) {
    return undefined
  }
  const codings = codingsOf(request.headers.get('content-encoding'))
  return recordIncomingBody(incoming as Readable, limit, codings)
}

/**
 * Whether Node's request `incoming` has a body coming: HTTP/1 says so in Content-Length or
 * Transfer-Encoding (RFC 9112 §6.3); an HTTP/2 stream that did not end with its headers has one.
 */
function announcesBody(incoming: object): boolean {
  const { headers, stream } = incoming as {
    headers?: Record<string, string | string[] | undefined>
    stream?: { endAfterHeaders?: boolean }
  }
  if (stream?.endAfterHeaders === false) {
    return true
  }
  const length = headers?.['content-length']
  return headers?.['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** `record` with what the app saw of its request. */
export function withSeen(record: RequestRecord): TestRequestRecord {
  const incoming = requestOfRecord(record)
  const seen = incoming && seenRequests.get(incoming)
  if (!seen) {
    return { ...record, headers: undefined, body: undefined }
  }
  let headers: Headers | undefined
  return {
    ...record,
    // Made when read: a test reads few records' headers, and the copy would cost every request.
    get headers() {
      return (headers ??= toHeaders(seen.rawHeaders))
    },
    body: seen.body,
  }
}

/** The headers node-server gives the app of Node's raw ones: HTTP/2's pseudo-headers left out. */
function toHeaders(raw: readonly string[]): Headers {
  const headers = new Headers()
  for (let at = 0; at + 1 < raw.length; at += 2) {
    const name = raw[at] ?? ''
    if (!name.startsWith(':')) {
      try {
        headers.append(name, raw[at + 1] ?? '')
      } catch {
        // A value Fetch refuses: node-server leaves it out of the app's headers too.
      }
    }
  }
  return headers
}
