/**
 * Answers kept for the next request of the same capture. Every page of a site asks for the
 * same stylesheets, scripts and images, and serving a small capture again would repeat the
 * read, the inflate of its gzip member, warcio's parse and the header repairs: most of what it
 * costs beyond the proxy itself (bench/README.md). An archive never changes, so an answer stays
 * right; what it depends on besides the capture, the client's `Accept-Encoding`, is in the key.
 * Range requests are not cached.
 * @module
 */
import { LruCache } from '../util/lru-cache'
import type { Capture } from './capture-index'

/** Up to 1,024 answers with bodies of at most 64 KiB: at most 64 MiB, for every collection. */
const answers = new LruCache<string, Prepared>(1024)
export const CACHED_BODY_BYTES = 64 * 1024

interface Prepared {
  status: number
  /**
   * A record when no name repeats: node-server hands it to Node's `writeHead` as it is, where a
   * list is made into a `Headers` first, on every request. Only `Set-Cookie` can repeat.
   */
  headers: Record<string, string> | [string, string][]
  body: Uint8Array<ArrayBuffer>
}

/** The key of `capture` of `collection` for `request`, or `undefined` when it is not cached. */
export function answerKey(
  collection: string,
  capture: Capture,
  request: Request
): string | undefined {
  if (request.headers.has('range')) {
    return undefined
  }
  const coding = request.headers.get('accept-encoding') ?? ''
  return `${collection}\n${capture.source}\n${capture.offset}\n${coding}`
}

/** The cached answer for `key`, as a new Response. */
export function cachedAnswer(key: string | undefined): Response | undefined {
  const hit = key === undefined ? undefined : answers.get(key)
  return hit && new Response(hit.body, { status: hit.status, headers: hit.headers })
}

/** Keep an answer whose body is `body`, when it is small enough. */
export function keepAnswer(
  key: string | undefined,
  status: number,
  headers: Headers,
  body: Uint8Array<ArrayBuffer>
): void {
  if (key !== undefined && body.length <= CACHED_BODY_BYTES) {
    answers.set(key, { status, headers: recordOf(headers), body })
  }
}

function recordOf(headers: Headers): Record<string, string> | [string, string][] {
  const record = Object.create(null) as Record<string, string>
  for (const [name, value] of headers) {
    if (Object.hasOwn(record, name)) {
      return [...headers]
    }
    record[name] = value
  }
  return record
}
