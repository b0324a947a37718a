/**
 * The main app of a test proxy started without one: every request it gets is one no fake
 * answered, and it says so in the answer.
 * @module
 */
import type { Handler } from '../app/fetch-handler'
import { PROXY_HOST_HEADER } from '../app/rewrite'

/**
 * 404, not a 5xx: SDKs retry 502, 503 and 504 (the AWS SDK, Google's, Octokit), so a request
 * nothing fakes would cost a test its retry delays before it failed. The body names the request
 * and the way to fake it, for the test whose code under test prints what it got.
 */
export const notFaked: Handler = (request) => {
  const url = fullUrl(request)
  const host = URL.canParse(url) ? new URL(url).hostname : 'its host'
  const why = request.headers.has(PROXY_HOST_HEADER)
    ? `startProxy was given no app that answers it: pass a proxy app for ${host} in proxyApps, or a main app`
    : SENT_TO_THE_PROXY
  return new Response(`not faked: ${request.method} ${url}\n(${why})\n`, {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
}

/**
 * Every request that came through the proxy carries the proxy-host header; one without came to
 * the proxy's own address as an origin-form request, naming no site. A client configured with
 * the proxy does that when it leaves its proxy settings out for one request: Python requests 2.28
 * with urllib3 1.26 (Debian 12's; psf/requests#3844, #6371) sends a streamed, chunked upload to
 * an https URL so, over TLS to the proxy itself (2.34 with urllib3 2.7 tunnels it). Faking its host does not help there, so the answer says what
 * happened instead.
 */
const SENT_TO_THE_PROXY =
  'it was sent to the proxy itself, not through it: the client named no site, so no fake can ' +
  'answer it. A client given the proxy does this when it skips its proxy settings for a request ' +
  '(Python requests does for a chunked upload to an https URL: send bytes instead of a generator)'

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
