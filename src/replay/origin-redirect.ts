/**
 * A captured redirect from one origin to another of the same page (`http://` to `https://`, a
 * host to its `www.`), which URL keys ignore: sent as captured, so that the page opens at the
 * origin it was captured at.
 * @module
 */
import { slashless, urlKeys } from './canonical'
import type { Capture } from './capture-index'
import type { Collection } from './collection'
import type { ReadCapture } from './record-reader'
import type { KeepIn } from './replay-response'
import { replayResponse } from './replay-response'
import { headerText, validHeaders } from './response-headers'

/**
 * The closest capture of the URL asked for itself (its scheme and host) when it is a captured
 * redirect to the same page at another origin, sent as captured: a site that moved to
 * `https://`, or to `www.` (or from it). Keys ignore both, so the page would otherwise open at
 * the origin asked for instead of the one it was captured at: not a secure context, and not the
 * origin its captured CORS answers and `Secure` cookies name (a web font from a CDN is refused).
 * Only when a capture at the target origin is no redirect, so that a site captured redirecting
 * both ways never loops; otherwise `undefined`.
 */
export async function originRedirect(
  request: Request,
  url: string,
  collection: Collection,
  captures: readonly Capture[],
  keep: KeepIn
): Promise<Response | undefined> {
  const asked = parsed(url)
  if (captures.length < 2 || !asked) {
    return undefined
  }
  const key = slashless(urlKeys(url).exact)
  // The closest capture at each origin, read only as far as the walk below needs.
  const closestAt = new Map<string, { capture: Capture; location: URL | undefined }>()
  let scanned = 0
  const at = async (origin: string) => {
    for (const capture of captures.slice(scanned)) {
      if (closestAt.has(origin)) {
        break
      }
      scanned++
      const found = await capturedAt(collection, capture)
      if (found && !closestAt.has(found.origin)) {
        closestAt.set(found.origin, { capture, location: found.location })
      }
    }
    return closestAt.get(origin)
  }
  // Follow the captured redirects from origin to origin (http:// to https://, then to www.)
  // until one lands on a capture that is no redirect; an origin seen twice is a loop.
  const first = await at(asked.origin)
  const seen = new Set([asked.origin])
  for (let hop = first; first && hop;) {
    const to = hop.location
    if (!to) {
      return hop === first
        ? undefined
        : replayResponse(request, url, collection, first.capture, keep)
    }
    if (seen.has(to.origin) || slashless(urlKeys(to.href).exact) !== key) {
      return undefined
    }
    seen.add(to.origin)
    hop = await at(to.origin)
  }
  return undefined
}

/** The origin a capture was made at, and where it redirects (a `3xx` with a `Location`). */
async function capturedAt(
  collection: Collection,
  capture: Capture
): Promise<{ origin: string; location: URL | undefined } | undefined> {
  let record: ReadCapture['record']
  try {
    record = (await collection.read(capture)).read.record
  } catch {
    return undefined
  }
  const captured = parsed(record.warcTargetURI ?? '')
  if (!captured) {
    return undefined
  }
  const http = record.httpHeaders
  const location = http && validHeaders(http).get('location')
  const status = Number(http?.statusCode)
  const redirects = location && status >= 300 && status < 400
  return {
    origin: captured.origin,
    location: redirects ? parsed(headerText(location), captured.href) : undefined,
  }
}

function parsed(url: string, base?: string): URL | undefined {
  try {
    return new URL(url, base)
  } catch {
    return undefined
  }
}
