/**
 * `HEAD` of the proxy's own pages (the CA downloads, the landing page, the PAC file, the metrics)
 * with the header fields `GET` of the same URL has, `Content-Length` included. Hono answers HEAD
 * with the GET response's headers and no body, and node-server can then no longer tell the length
 * it gives GET; these pages are small and made in memory, so the GET body is made and counted.
 * @module
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2
 */
import type { Handler } from '../app/fetch-handler'

/** `handler`, answering `HEAD` as it answers `GET`, with that body's length and without it. */
export function withHeadAsGet(handler: Handler): Handler {
  return async (request, env) => {
    if (request.method !== 'HEAD') {
      return handler(request, env)
    }
    // The same request as GET: what it does not handle still falls through, as the HEAD.
    const get = new Request(request.url, { headers: request.headers, signal: request.signal })
    const response = await handler(get, env)
    if (response === undefined) {
      return undefined
    }
    const headers = new Headers(response.headers)
    if (response.body !== null && !headers.has('content-length')) {
      headers.set('content-length', String((await response.arrayBuffer()).byteLength))
    }
    return new Response(null, { status: response.status, statusText: response.statusText, headers })
  }
}
