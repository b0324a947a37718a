/**
 * The response for one capture: the captured status and headers, repaired (see
 * response-headers.ts), the body consistent with them (see payload.ts), a range of it for a
 * `Range` request, and the Memento headers.
 * @module
 */
import { slashless, urlKeys } from './canonical'
import type { Capture } from './capture-index'
import { RecordKind } from './capture-index'
import type { Collection } from './collection'
import { decodedBody } from './decoded-bodies'
import { jsonpCallback, renameCallback } from './jsonp'
import { mementoHeaders } from './memento'
import type { Body } from './payload'
import { bodyOf } from './payload'
import { coversWhole, partAnswer, rangeOf } from './range'
import type { ReadCapture } from './record-reader'
import { payloadBytes, seeksInMember, slice } from './record-reader'
import type { AnswerCache } from './response-cache'
import { CACHED_BODY_BYTES } from './response-cache'
import {
  headerText,
  nullBodyStatus,
  replayHeaders,
  sendableStatus,
  sessionCookies,
  validHeaders,
} from './response-headers'
import { collect, send } from './send'

/** Where an answer is kept (see response-cache.ts), and under which key. */
export interface KeepIn {
  answers: AnswerCache
  key: string | undefined
}

/**
 * Answer `request` with `capture` of `url` from `collection`, kept in `keep` when small; or
 * `undefined` when `skipUnfit` is set and the capture cannot serve the request: a redirect to
 * `url` itself, or a captured part of the body (a `206`) that lacks the range asked for, or that
 * answers a request for no range.
 */
export async function replayResponse(
  request: Request,
  url: string,
  collection: Collection,
  capture: Capture,
  keep: KeepIn,
  skipUnfit = false
): Promise<Response | undefined> {
  const { read, payload } = await collection.read(capture)
  const own = read.record.httpHeaders
  // A revisit's own status and headers win, unless it has none or records a 304.
  const shown =
    own && !(capture.kind === RecordKind.revisit && own.statusCode === 304) ? read : payload
  const http = shown.record.httpHeaders
  const stored = validHeaders(payload.record.httpHeaders ?? undefined)
  const sent = http ? sendableStatus(http.statusline, http.statusCode) : { status: 200 }
  const headers = http
    ? replayHeaders(http)
    : new Headers({ 'Content-Type': shown.record.warcContentType ?? 'application/octet-stream' })
  sessionCookies(headers, capture.time)
  if (!headers.has('content-type')) {
    // node-server gives a body without a type `text/plain`, and Chromium shows an HTML page served
    // so as text. An empty value is no type (Fetch's "extract a MIME type" fails on it), so the
    // browser sniffs as it did when the page was captured.
    headers.set('Content-Type', '')
  }
  if (skipUnfit && redirectsTo(url, sent.status, headers, read.record.warcTargetURI)) {
    return undefined
  }
  mementoHeaders(headers, capture.time, read.record.warcTargetURI ?? url)
  if (sent.captured !== undefined) {
    headers.set('X-Archive-Status', sent.captured)
  }
  const rangeHeader = /^(GET|HEAD)$/i.test(request.method) ? request.headers.get('range') : null
  const callback = jsonpCallback(url, headers.get('content-type'), rangeHeader)
  // A JSONP answer is renamed decoded: the client gets it so, whatever it accepts.
  const acceptEncoding = callback === undefined ? request.headers.get('accept-encoding') : null
  let body = await bodyOf(payload, stored, acceptEncoding)
  if (body.encoding) {
    headers.set('Content-Encoding', body.encoding)
  } else if (callback !== undefined) {
    body = { chunks: renameCallback(body.chunks, callback), length: undefined, encoding: undefined }
  }
  const status = partialStatus(sent.status, http?.headers.get('content-range'), body, headers)
  if (nullBodyStatus(status)) {
    return new Response(null, { status, headers })
  }
  if (status === 206) {
    const part =
      rangeHeader === null
        ? undefined
        : partAnswer(headers.get('content-range') ?? '', rangeHeader, body.length)
    if (skipUnfit && (rangeHeader === null || part?.kind === 'outside')) {
      return undefined
    }
    if (part?.kind === 'outside') {
      headers.set('Content-Range', `bytes */${part.complete}`)
      return new Response(null, { status: 416, headers })
    }
    if (part) {
      headers.set('Content-Range', `bytes ${part.start}-${part.end}/${part.complete}`)
      const chunks = slice(body.chunks, part.start - part.first, part.end - part.first + 1)
      return send(206, headers, chunks, part.end - part.start + 1)
    }
  }
  if (status !== 200 || rangeHeader === null) {
    if (status === 200) {
      headers.set('Accept-Ranges', 'bytes')
    }
    if (body.length !== undefined && body.length <= CACHED_BODY_BYTES) {
      const bytes = await collect(body.chunks)
      keep.answers.keep(keep.key, status, headers, bytes)
      return new Response(bytes, { status, headers })
    }
    return send(status, headers, body.chunks, body.length)
  }
  let length = body.length
  let seek = (from: number, to: number) => rangeChunks(payload, body, from, to)
  let unread: () => void = () => undefined
  if (length === undefined) {
    // A transformed body (dechunked or decoded): a large one is kept so, for later ranges.
    const reread = async () =>
      bodyOf((await collection.read(capture)).payload, stored, acceptEncoding)
    const file = await decodedBody(payload, body.encoding, reread)
    if (file) {
      await body.chunks[Symbol.asyncIterator]().return?.()
      length = file.size
      body = { ...body, chunks: file.read(0, file.size), length }
      seek = (from, to) => file.read(from, to)
      unread = file.release
    } else {
      // A small one is measured, then read again.
      length = await measure(body)
      body = await reread()
    }
  }
  headers.set('Accept-Ranges', 'bytes')
  const range = rangeOf(rangeHeader, length)
  if (range.kind === 'whole') {
    return send(200, headers, body.chunks, length)
  }
  if (range.kind === 'unsatisfiable') {
    unread()
    headers.set('Content-Range', `bytes */${length}`)
    return new Response(null, { status: 416, headers })
  }
  headers.set('Content-Range', `bytes ${range.start}-${range.end}/${length}`)
  const size = range.end - range.start + 1
  return send(206, headers, seek(range.start, range.end + 1), size)
}

/**
 * The status to send for a captured one. A captured `206` that holds the whole body
 * (`bytes 0-<n-1>/<n>`, what a browser's `Range: bytes=0-` got) is a `200` capture: it answers
 * any range asked of it. Another keeps its captured `Content-Range`, without which no client
 * can place its bytes (Chromium's media player fails on it).
 */
function partialStatus(
  status: number,
  contentRange: string | null | undefined,
  body: Body,
  headers: Headers
): number {
  if (status !== 206 || !contentRange) {
    return status
  }
  if (coversWhole(contentRange, body.length)) {
    return 200
  }
  headers.set('Content-Range', contentRange)
  return status
}

/**
 * Whether a captured redirect leads to `url` itself once keys are compared (`http://` to
 * `https://`, `example.com` to `www.example.com`) and a trailing slash ignored (`/docs/` to
 * `/docs`), as pywb's self-redirect check does: the client would ask again and get the same
 * capture, or one redirecting back, until it gives up (Chromium's ERR_TOO_MANY_REDIRECTS).
 */
export function redirectsTo(
  url: string,
  status: number,
  headers: Headers,
  captured: string | null | undefined
): boolean {
  const location = status >= 300 && status < 400 ? headers.get('location') : null
  if (location === null) {
    return false
  }
  try {
    const target = new URL(headerText(location), captured ?? url).href
    return slashless(urlKeys(target).exact) === slashless(urlKeys(url).exact)
  } catch {
    return false
  }
}

/**
 * A stored payload in an uncompressed record, or in a large gzip member, is read from the file
 * (or the member inflated once) at the range's start.
 */
function rangeChunks(payload: ReadCapture, body: Body, from: number, to: number) {
  const seekable = payload.payloadStart !== undefined || seeksInMember(payload)
  return body.length !== undefined && seekable && from > 0
    ? payloadBytes(payload, from, to)
    : slice(body.chunks, from, to)
}

async function measure(body: Body): Promise<number> {
  let length = 0
  for await (const chunk of body.chunks) {
    length += chunk.length
  }
  return length
}
