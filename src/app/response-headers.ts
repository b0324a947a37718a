/**
 * The app's response headers as the proxy sends them: without hop-by-hop headers, and with the
 * Content-Length the body is held to.
 * @module
 */
import { validateHeaderName, validateHeaderValue } from 'node:http'
import { describe } from '../admission/target'
import type { ErrorContext } from '../types'
import { lengthsOf } from '../util/name-lengths'

/**
 * Headers that describe one connection, not the response (RFC 9110 §7.6.1), or that HTTP/2
 * forbids (RFC 9113 §8.2.2); `Trailer` too, since a Fetch response has no trailers to announce.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
])

/**
 * The lengths of the names the check acts on (hop-by-hop ones, Content-Length): a name of
 * another length is passed over without being lower-cased, unless Connection names it.
 */
const WATCHED_LENGTHS = lengthsOf([...HOP_BY_HOP, 'content-length'])

/** No header names: what a request whose app named Content-Length once has of other cases. */
const NO_NAMES: readonly string[] = []

export type HeaderValue = string | number | readonly string[]
export type HeaderBag = Record<string, HeaderValue | undefined>

/** What the header check reads of the response, and the one thing it may change. */
export interface HeadersOwner {
  req?: { method?: string | undefined } | undefined
  shouldKeepAlive?: boolean
}

type Report = (error: Error, context: ErrorContext) => void

/**
 * The largest header block HTTP/2 sends here: nghttp2's default send limit, 64 KiB, counted as
 * its `nghttp2_hd_deflate_bound` does (12 bytes, 12 per field, and every name and value). A
 * block over it would make Node reset the stream and end the whole session with GOAWAY.
 */
export const HTTP2_HEADER_BLOCK_MAX = 65_536

/** What Node adds to every HTTP/2 response head: `:status` and `date`, with room to spare. */
const HTTP2_OWN_FIELDS_BOUND = 12 + 2 * 12 + 64

/**
 * Whether `status` can be sent as a final status: an integer from 200 to 599, what a Fetch
 * Response holds (a 1xx is never final). Anything else, a `200.5`, a `'200'` or an object whose
 * `valueOf` passes a range check, would reach a status line as its `toString()`.
 */
export function isSendableStatus(status: unknown): status is number {
  return Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599
}

/** `status` for a one-line reason: a number as it is, anything else by its kind. */
export function describeStatus(status: unknown): string {
  return typeof status === 'number' ? String(status) : describe(status)
}

/**
 * Why Node's HTTP/1 writer would refuse `headers` (a bad name, a control character in a value),
 * or `undefined`: Node's own check, for a head written by other hands than Node's `writeHead`.
 */
export function headerFault(headers: HeaderBag | undefined): string | undefined {
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) {
      continue
    }
    try {
      validateHeaderName(name)
      const values: readonly (string | number)[] = Array.isArray(value) ? value : [value]
      for (const one of values) {
        validateHeaderValue(name, String(one))
      }
    } catch (error) {
      return (error as Error).message
    }
  }
  return undefined
}

/**
 * The app's headers without hop-by-hop ones, and the Content-Length the body is held to
 * (`undefined` where none applies: no body by the rules of HTTP, or none declared).
 */
export function cleanHeaders(
  res: HeadersOwner,
  given: HeaderBag | string[] | undefined,
  status: number,
  report: Report
): {
  headers: HeaderBag | undefined
  declared: number | undefined
  blockBound?: number
  /** HTTP/2: why HTTP/1.1 would refuse a header (its name, or a character of its value). */
  refused?: string
} {
  if (given === undefined) {
    return { headers: undefined, declared: undefined }
  }
  const bag = Array.isArray(given) ? pairsToBag(given) : given
  let headers = bag
  let declared: number | undefined
  let dropped: string[] | undefined
  let single: [string, number] | undefined
  // The first Content-Length name, and any other letter case of it the app also used.
  let lengthName: string | undefined
  let otherLengthNames: string[] | undefined
  const named = connectionTokens(bag)
  for (const name in bag) {
    if (named === undefined && WATCHED_LENGTHS[name.length] !== true) {
      continue
    }
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) {
      if (lower === 'connection' && named?.has('close') && res.shouldKeepAlive !== undefined) {
        // The app asks to close after this response: that meaning is kept, the header is not.
        res.shouldKeepAlive = false
      }
      ;(dropped ??= []).push(name)
      continue
    }
    if (lower === 'content-length') {
      if (lengthName === undefined) {
        lengthName = name
      } else {
        ;(otherLengthNames ??= []).push(name)
      }
    }
  }
  if (lengthName !== undefined) {
    // Named twice in two letter cases, it is sent once, or not at all when the two disagree.
    const value = bag[lengthName]
    const others = otherLengthNames ?? NO_NAMES
    const length = parseLength(
      others.length === 0
        ? value
        : [lengthName, ...others].flatMap((n) => [bag[n] ?? []].flat().map(String))
    )
    if (length === undefined || status === 204) {
      // Unreadable; or never sent with a 204 (RFC 9110 §8.6), where HTTP/2 resets the stream.
      ;(dropped ??= []).push(lengthName, ...others)
      if (length === undefined) {
        report(new Error(`The app sent an unreadable Content-Length; it was dropped`), {
          phase: 'app',
        })
      }
    } else {
      if (others.length > 0) {
        ;(dropped ??= []).push(...others)
      }
      // A 205 has no content (RFC 9110 §15.3.6): length 0, whatever the app's body (HTTP/2
      // resets a stream whose length its DATA frames do not make up).
      const sent = status === 205 ? 0 : length
      if (value !== sent && value !== String(sent)) {
        // `5, 5` or a repeated header: one value, which HTTP/2 and strict clients require.
        single = [lengthName, sent]
      }
      if (carriesBody(res, status)) {
        declared = sent
      }
    }
  }
  if (status === 205 && lengthName === undefined && carriesBody(res, status)) {
    // node-server gives a text body its length on Node's response, not among the headers.
    single = ['Content-Length', 0]
    declared = 0
  }
  if (dropped || single) {
    headers = { ...bag }
    for (const name of dropped ?? []) {
      Reflect.deleteProperty(headers, name)
    }
    if (single) {
      headers[single[0]] = String(single[1])
    }
  }
  if (res.shouldKeepAlive === undefined) {
    // HTTP/2: Node checks no value's characters there and not every name (HTTP/1.1 refuses both
    // in writeHead; nghttp2 resets the stream on a name that is not a token), and the head must
    // fit in one header block.
    const refused = refusal(headers)
    if (refused !== undefined) {
      return { headers, declared, refused }
    }
    const bound = blockBound(headers)
    if (bound > HTTP2_HEADER_BLOCK_MAX) {
      return { headers, declared, blockBound: bound }
    }
  }
  return { headers, declared }
}

/**
 * A character Node's HTTP/1.1 refuses in a field value (a control character but tab, or one
 * beyond Latin-1): checked over HTTP/2 too, where it would be dropped, garbled or reset the stream.
 */
const REFUSED_IN_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/** A header name as HTTP/1.1 and HTTP/2 take it: a token (RFC 9110 §5.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Why Node's HTTP/1.1 would refuse the first header it refuses, in its words, if any. */
function refusal(headers: HeaderBag): string | undefined {
  for (const name in headers) {
    const value = headers[name]
    if (!TOKEN.test(name)) {
      return `Header name must be a valid HTTP token ["${name}"]`
    }
    if (typeof value === 'number' || value === undefined) {
      continue
    }
    for (const one of typeof value === 'string' ? [value] : value) {
      if (REFUSED_IN_VALUE.test(one)) {
        return `Invalid character in header content ["${name}"]`
      }
    }
  }
  return undefined
}

/** An upper bound of the HPACK block of `headers` and what Node adds, as nghttp2 counts it. */
function blockBound(headers: HeaderBag): number {
  let bound = HTTP2_OWN_FIELDS_BOUND
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) {
      continue
    }
    for (const one of Array.isArray(value) ? value : [value]) {
      bound += 12 + name.length + Buffer.byteLength(String(one))
    }
  }
  return bound
}

function carriesBody(res: HeadersOwner, status: number): boolean {
  return status !== 204 && status !== 304 && res.req?.method !== 'HEAD'
}

const DIGITS = /^\d{1,15}$/

function parseLength(value: HeaderValue | undefined): number | undefined {
  if (typeof value === 'string' && DIGITS.test(value)) {
    return Number(value)
  }
  const text = Array.isArray(value) ? value.join(',') : String(value)
  // Repeated equal values are one length (RFC 9110 §8.6); anything else is unreadable.
  const parts = text.split(',').map((part) => part.trim())
  const first = parts[0] ?? ''
  if (!DIGITS.test(first) || parts.some((part) => part !== first)) {
    return undefined
  }
  return Number(first)
}

function connectionTokens(bag: HeaderBag): Set<string> | undefined {
  // Every Connection header counts, whatever the letter case of its name.
  let tokens: Set<string> | undefined
  for (const name in bag) {
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      const value = bag[name]
      const text = Array.isArray(value) ? value.join(',') : String(value)
      for (const token of text.split(',')) {
        ;(tokens ??= new Set()).add(token.trim().toLowerCase())
      }
    }
  }
  return tokens
}

function pairsToBag(pairs: string[]): HeaderBag {
  // No prototype: a header named `__proto__` is a header like any other.
  const bag = Object.create(null) as Record<string, string[]>
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    ;(bag[pairs[i] ?? ''] ??= []).push(pairs[i + 1] ?? '')
  }
  return bag
}
