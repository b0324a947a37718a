/**
 * The Fetch-only entry, for runtimes that cannot hand over a socket: no tunnels (CONNECT gets
 * `405 HTTPS Proxy Not Supported`), and since proxy traffic cannot be told from direct traffic
 * without the socket, a request for a proxy host is admitted as an absolute-form request and
 * anything else passes through to the main app.
 * @module
 */
import type { Gate } from '../admission/gate'
import { challengeHeaders } from '../inbound/replies'
import type { Dispatcher } from './dispatch'
import { routeOf } from './dispatch'
import type { Handler } from './fetch-handler'
import { PROXY_HOST_HEADER, stripProxyHeaders } from './rewrite'

/** What the Fetch-only entry needs from the proxy. */
export interface FetchEntryDeps {
  gate: Gate
  dispatcher: Dispatcher
  hostApps: ReadonlyMap<string, Handler>
  proxyHosts: ReadonlySet<string>
}

/** The `fetch` of a proxy. */
export function createFetchEntry(deps: FetchEntryDeps) {
  const { gate, dispatcher, hostApps, proxyHosts } = deps
  return async (request: Request, env?: unknown): Promise<Response> => {
    if (request.method === 'CONNECT') {
      return text(405, 'HTTPS Proxy Not Supported', {}, 'HTTPS Proxy Not Supported')
    }
    const url = new URL(request.url)
    const headers = new Headers(request.headers)
    if (!proxyHosts.has(url.hostname)) {
      stripProxyHeaders(headers)
      return dispatcher.handle(new Request(request, { headers }), env, undefined)
    }
    const admission = await gate.admitRequest(undefined, {
      method: request.method,
      url: url.href,
      headers: Object.fromEntries(headers),
      rawHeaders: [...headers].flat(),
    })
    switch (admission.kind) {
      case 'challenge':
        return text(407, 'Proxy authentication required', challengeHeaders(admission.realm))
      case 'refuse':
        return text(admission.status, admission.message)
      case 'passthrough':
        return text(400, 'Invalid request target')
    }
    stripProxyHeaders(headers)
    headers.set(PROXY_HOST_HEADER, admission.proxyHost)
    const forwarded = new Request(url.origin + admission.path, {
      method: request.method,
      headers,
      body: request.body,
      signal: request.signal,
      duplex: 'half',
    } as RequestInit)
    return dispatcher.handle(forwarded, env, routeOf(hostApps, admission.proxyHost, admission.host))
  }
}

function text(
  status: number,
  reason: string,
  headers: Record<string, string> = {},
  statusText?: string
): Response {
  return new Response(`${reason}\n`, {
    status,
    statusText,
    headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
  })
}
