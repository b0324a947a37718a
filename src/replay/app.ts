/**
 * The replay app: a Fetch handler that answers `/<collection>/<archived URL>` (what
 * {@link ReplayResolver} makes of a proxied request) from the archive, and anything else (the
 * proxy host's own pages) with the list of collections. It never fetches anything live.
 * @module
 */
import type { BodyKey } from './body-key'
import type { Capture } from './capture-index'
import { MethodClass, methodClass } from './capture-index'
import type { Collection } from './collection'
import { collectionsPage, notArchivedPage, unknownCollectionPage } from './html'
import { acceptDatetime, byCloseness, timestampOption } from './memento'
import { originRedirect } from './origin-redirect'
import type { KeepIn } from './replay-response'
import { redirectsTo, replayResponse } from './replay-response'
import { requestBodyKey } from './request-body'
import { AnswerCache } from './response-cache'

/** A Fetch handler over a set of collections. */
export type ReplayApp = (request: Request) => Promise<Response>

/** How many captures of a URL are tried, at most, for one that can serve the client. */
const CAPTURES_TRIED = 64

const ARCHIVED = /^\/([^/]+)\/(https?:\/\/.*)$/i

const html = (body: string, status = 200) =>
  new Response(body, {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  })

const text = (body: string, status: number) =>
  new Response(`${body}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })

/** How the replay app chooses captures. */
export interface ReplayAppOptions {
  /**
   * The time every request is answered at unless it sends `Accept-Datetime`: the capture
   * closest to it, as pywb's proxy mode does with a default timestamp. A timestamp in UTC, from
   * the year to the second (`2020`, `20200131`, `20200131235959`). @default the latest capture
   */
  timestamp?: string
}

/**
 * The app serving `collections`; throws a `RangeError` when `options.timestamp` is no
 * timestamp.
 */
export function createReplayApp(
  collections: readonly Collection[],
  options: ReplayAppOptions = {}
): ReplayApp {
  const at = timestampOption(options.timestamp)
  const byName = new Map(collections.map((c) => [c.name, c]))
  const answers = new AnswerCache()
  return async (request) => {
    // The path and query as they came: what follows the origin (a host holds no '/').
    const asked = request.url
    const path = asked.indexOf('/', asked.indexOf('://') + 3)
    const match = path === -1 ? null : ARCHIVED.exec(asked.slice(path))
    if (!match) {
      const { pathname } = new URL(asked)
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return text('The proxy host answers GET only.', 405)
      }
      return pathname === '/'
        ? html(collectionsPage(collections))
        : text(`Not found: ${pathname}. The archived pages are listed at /.`, 404)
    }
    const [, rawName = '', url = ''] = match
    const name = safeDecode(rawName)
    const collection = byName.get(name)
    if (!collection) {
      return html(unknownCollectionPage(name, collections), 404)
    }
    const method = methodClass(request.method)
    if (method === MethodClass.other) {
      // A POST (or PUT...) picks the capture whose request had the same body.
      const body = await requestBodyKey(request)
      const key = answers.key(collection.name, method, url, request, body)
      return (
        answers.get(key) ?? replay(request, url, collection, method, { answers, key, at }, body)
      )
    }
    // A request asked before is answered here, with no lookup and no await.
    const key = answers.key(collection.name, method, url, request)
    return answers.get(key) ?? replay(request, url, collection, method, { answers, key, at })
  }
}

/**
 * The captures for `request`, oldest first. One of another method with a body falls back to
 * the URL's `GET` captures when that method was never captured: a form posted to the page it is
 * on, say. An `OPTIONS` does not, as a preflight nobody captured is answered on its own.
 */
function capturesFor(
  url: string,
  collection: Collection,
  method: MethodClass,
  body: BodyKey | undefined
) {
  const captures = collection.lookup(url, method, body)
  return captures.length === 0 && method === MethodClass.other
    ? collection.lookup(url, MethodClass.get)
    : captures
}

async function replay(
  request: Request,
  url: string,
  collection: Collection,
  method: MethodClass,
  keep: KeepIn & { at: number | undefined },
  body?: BodyKey
): Promise<Response> {
  const wanted = acceptDatetime(request.headers.get('accept-datetime'))
  if (wanted === null) {
    return text('Accept-Datetime must be an HTTP date, such as Wed, 01 Jan 2020 00:00:00 GMT.', 400)
  }
  const captures = byCloseness(capturesFor(url, collection, method, body), wanted ?? keep.at)
  const [first] = captures
  if (!first) {
    if (method === MethodClass.options && request.headers.has('access-control-request-method')) {
      return preflight(request)
    }
    return html(notArchivedPage(url, collection), 404)
  }
  // A capture that cannot serve the client gives way to the next closest: a redirect to the URL
  // itself (a crawler's http:// to https://, or to www.), which would only bring the client
  // back here; a captured part of a media file (a 206) without the range asked for, when another
  // capture may hold it; and one that cannot be read (a revisit whose original is not in the
  // archive, a record not where the index says).
  const tried = captures.slice(0, CAPTURES_TRIED)
  const upgrade = await originRedirect(request, url, collection, tried, keep)
  if (upgrade) {
    return upgrade
  }
  let failure: unknown
  for (const capture of tried) {
    try {
      const response = await replayResponse(request, url, collection, capture, keep, true)
      if (response) {
        return response
      }
    } catch (error) {
      failure ??= error
    }
  }
  try {
    if (failure === undefined) {
      // Nothing but redirects to itself, or parts without the range: the closest part as
      // captured (it answers 416 to a range it lacks). A redirect to itself would only send the
      // client round (Chromium's ERR_TOO_MANY_REDIRECTS): the URL is not archived, as pywb's
      // self-redirect check ends it too.
      const asCaptured = await replayResponse(request, url, collection, first, keep)
      return asCaptured && !goesRound(asCaptured, url, collection, captures)
        ? asCaptured
        : html(notArchivedPage(url, collection), 404)
    }
  } catch (error) {
    failure = error
  }
  const reason = failure instanceof Error ? failure.message : String(failure)
  return text(`The capture of ${url} in ${collection.name} could not be read: ${reason}`, 502)
}

/**
 * Whether `response` is a redirect to `url` itself whose target has no capture but `captures`:
 * the client would come back to them until it gives up. A redirect that only adds a trailing
 * slash leads on when the URL with the slash has a capture of its own.
 */
function goesRound(
  response: Response,
  url: string,
  collection: Collection,
  captures: Capture[]
): boolean {
  if (!redirectsTo(url, response.status, response.headers, undefined)) {
    return false
  }
  const target = URL.parse(response.headers.get('location') ?? '', url)?.href
  const same = (a: Capture, b: Capture) => a.source === b.source && a.offset === b.offset
  return (
    target !== undefined &&
    collection
      .lookup(target, MethodClass.get)
      .every((there) => captures.some((capture) => same(capture, there)))
  )
}

/**
 * A CORS preflight nobody captured (browsers send them, crawlers seldom record them): allow
 * what was asked, as pywb does, so the archived page's own fetches go on to their captures.
 */
function preflight(request: Request): Response {
  const origin = request.headers.get('origin')
  const headers = new Headers({
    'Access-Control-Allow-Origin': origin ?? '*',
    'Access-Control-Allow-Methods':
      request.headers.get('access-control-request-method') ?? 'GET, POST, PUT, DELETE, OPTIONS',
    'Access-Control-Max-Age': '86400',
    Vary: 'Origin',
  })
  const wantedHeaders = request.headers.get('access-control-request-headers')
  if (wantedHeaders) {
    headers.set('Access-Control-Allow-Headers', wantedHeaders)
  }
  if (origin) {
    headers.set('Access-Control-Allow-Credentials', 'true')
  }
  return new Response(null, { status: 204, headers })
}

function safeDecode(text: string): string {
  if (!text.includes('%')) {
    return text
  }
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
