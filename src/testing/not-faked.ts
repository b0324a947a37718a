/**
 * The main app of a test proxy started without one: every request it gets is one no fake
 * answered, and it says so in the answer.
 * @module
 */
import type { Handler } from '../app/fetch-handler'

/**
 * 404, not a 5xx: SDKs retry 502, 503 and 504 (the AWS SDK, Google's, Octokit), so a request
 * nothing fakes would cost a test its retry delays before it failed. The body names the request
 * and the way to fake it, for the test whose code under test prints what it got.
 */
export const notFaked: Handler = (request) => {
  const url = fullUrl(request)
  const host = URL.canParse(url) ? new URL(url).hostname : 'its host'
  return new Response(
    `not faked: ${request.method} ${url}\n` +
      `(startProxy was given no app that answers it: pass a proxy app for ${host} in proxyApps, or a main app)\n`,
    { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }
  )
}

/**
 * The URL the client asked for. A host with no fake reaches the main app as the full URL after
 * the prefix (`/https://www.example.com/x`); a request a proxy app let fall through keeps the
 * site's own path, and its URL is the request's.
 */
function fullUrl(request: Request): string {
  const { pathname, search } = new URL(request.url)
  const inner = pathname.slice(1) + search
  return /^(?:https?|wss?):\/\//.test(inner) ? inner : request.url
}
