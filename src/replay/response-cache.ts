/**
 * Answers kept for the same request asked again. Every page of a site asks for the
 * same stylesheets, scripts and images, and serving a small capture again would repeat the
 * read, the inflate of its gzip member, warcio's parse and the header repairs: most of what it
 * costs beyond the proxy itself (bench/README.md). An archive never changes, so an answer stays
 * right. Range requests are not cached.
 * @module
 */
import { LruCache } from '../util/lru-cache'
import type { BodyKey } from './body-key'
import type { MethodClass } from './capture-index'

/** Bodies up to this size are kept. */
export const CACHED_BODY_BYTES = 64 * 1024
/** Answers kept by one replay app: with bodies of at most 64 KiB, at most 64 MiB. */
const ANSWERS_KEPT = 1024

interface Prepared {
  status: number
  /**
   * A record when no name repeats: node-server hands it to Node's `writeHead` as it is, where a
   * list is made into a `Headers` first, on every request. Only `Set-Cookie` can repeat.
   */
  headers: Record<string, string> | [string, string][]
  body: Uint8Array<ArrayBuffer>
}

/**
 * The answers of one replay app. Each app has its own: two apps in one process may serve
 * different archives under the same collection name.
 */
export class AnswerCache {
  readonly #answers = new LruCache<string, Prepared>(ANSWERS_KEPT)

  /**
   * The key of the answer to `request` for `url` in `collection`, or `undefined` when it is not
   * cached. It holds what picks the capture (the URL, the method's class, `Accept-Datetime` as it
   * came) and what shapes the answer (`Accept-Encoding`), so that a request asked again is
   * answered before the lookup: the same request always gets the same answer. A request with a
   * body (a `POST`...) adds the key of its body, which picks the capture too.
   */
  key(
    collection: string,
    method: MethodClass,
    url: string,
    request: Request,
    body?: BodyKey
  ): string | undefined {
    const headers = request.headers
    if (headers.has('range')) {
      return undefined
    }
    const coding = headers.get('accept-encoding') ?? ''
    const datetime = headers.get('accept-datetime') ?? ''
    const asked = body ? `${body[0]}:${body[1]} ${url}` : url
    return `${collection}\n${method}\n${coding}\n${datetime}\n${asked}`
  }

  /** The kept answer for `key`, as a new Response. */
  get(key: string | undefined): Response | undefined {
    const hit = key === undefined ? undefined : this.#answers.get(key)
    return hit && new Response(hit.body, { status: hit.status, headers: hit.headers })
  }

  /** Keep an answer whose body is `body`, when it is small enough. */
  keep(
    key: string | undefined,
    status: number,
    headers: Headers,
    body: Uint8Array<ArrayBuffer>
  ): void {
    if (key !== undefined && body.length <= CACHED_BODY_BYTES) {
      this.#answers.set(key, { status, headers: recordOf(headers), body })
    }
  }
}

function recordOf(headers: Headers): Record<string, string> | [string, string][] {
  // A plain object in V8's fast mode (one from Object.create(null) is a dictionary, which
  // node-server and Node walk more slowly on every answer); '__proto__' would set its prototype.
  const record: Record<string, string> = {}
  for (const [name, value] of headers) {
    if (Object.hasOwn(record, name) || name === '__proto__') {
      return [...headers]
    }
    record[name] = value
  }
  return record
}
