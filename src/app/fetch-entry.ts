/**
 * The Fetch-only entry, for runtimes that cannot hand over a socket: no tunnels (CONNECT gets
 * `405 HTTPS Proxy Not Supported`), and since proxy traffic cannot be told from direct traffic
 * without the socket, a request for a proxy host is admitted as an absolute-form request and
 * anything else passes through to the main app.
 * @module
 */
import type { Served } from '../admission/decision'
import type { Gate } from '../admission/gate'
import type { Way } from '../inbound/answer'
import { answer } from '../inbound/answer'
import type { ReplyHeaders } from '../inbound/replies'
import type { ErrorContext } from '../types'
import type { Dispatcher } from './dispatch'
import { checkFetchAnswer } from './fetch-answer'
import { PROXY_HOST_HEADER, stripProxyHeaders } from './rewrite'

/** What the Fetch-only entry needs from the proxy. */
export interface FetchEntryDeps {
  gate: Gate
  dispatcher: Dispatcher
  proxyHosts: ReadonlySet<string>
  onError: (error: Error, context: ErrorContext) => void
}

/** The request as it came, and the env to pass on. */
interface Asked {
  request: Request
  url: URL
  headers: Headers
  env: unknown
}

/** The `fetch` of a proxy. */
export function createFetchEntry(deps: FetchEntryDeps) {
  const { gate, dispatcher, proxyHosts, onError } = deps

  const way: Way<Asked, undefined, Response | Promise<Response>> = {
    serve({ request, url, headers, env }, _out, admission: Served) {
      // Aborted while admission ran: the app never runs for a caller that has given up.
      request.signal.throwIfAborted()
      stripProxyHeaders(headers)
      if (admission.kind === 'passthrough') {
        return dispatcher.handle(new Request(request, { headers }), env, undefined)
      }
      headers.set(PROXY_HOST_HEADER, admission.proxyHost)
      const forwarded = new Request(url.origin + admission.path, {
        method: request.method,
        headers,
        body: request.body,
        signal: request.signal,
        duplex: 'half',
      } as RequestInit)
      return dispatcher.handle(forwarded, env, admission.route)
    },
    reply(_out, status, reason, headers) {
      return text(status, reason, headers)
    },
  }

  const respond = async (request: Request, env: unknown): Promise<Response> => {
    // Reached only by runtimes whose Request can carry CONNECT: Node's refuses to build one.
    if (request.method === 'CONNECT') {
      return text(405, 'HTTPS Proxy Not Supported', {}, 'HTTPS Proxy Not Supported')
    }
    const url = new URL(request.url)
    const asked = { request, url, headers: new Headers(request.headers), env }
    if (!proxyHosts.has(url.hostname)) {
      return way.serve(asked, undefined, { kind: 'passthrough' })
    }
    const admission = await gate.admitRequest(undefined, {
      method: request.method,
      url: url.href,
      headers: Object.fromEntries(asked.headers),
      rawHeaders: [...asked.headers].flat(),
    })
    // An absolute URL is never passthrough: a decision to pass it through is a bad target.
    if (admission.kind === 'passthrough') {
      return text(400, 'Invalid request target')
    }
    return answer(way, asked, undefined, admission)
  }

  // The caller's server writes the answer as it is: it is checked here (fetch-answer.ts).
  const checked = (request: Request, env: unknown): Promise<Response> =>
    respond(request, env).then((response) => checkFetchAnswer(response, request.method, onError))

  // As fetch() does: an aborted request is rejected with the signal's reason, and the app's
  // Request (which follows the caller's signal) sees the abort.
  return (request: Request, env?: unknown): Promise<Response> => {
    // What some runtime hands in as a Request (a CONNECT, see above) may have no signal.
    const signal = request.signal as AbortSignal | undefined
    if (!signal) {
      return checked(request, env)
    }
    if (signal.aborted) {
      return Promise.reject(signal.reason as Error)
    }
    return untilAborted(signal, checked(request, env))
  }
}

/** `response`, or a rejection with `signal`'s reason as soon as it aborts. */
function untilAborted(signal: AbortSignal, response: Promise<Response>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', aborted, { once: true })
    response
      .finally(() => {
        signal.removeEventListener('abort', aborted)
      })
      .then((value) => {
        if (signal.aborted) {
          // Answered after the caller gave up: no one will read the body.
          void value.body?.cancel().catch(() => {})
        }
        resolve(value)
      }, reject)
  })
}

function text(
  status: number,
  reason: string,
  headers: ReplyHeaders = {},
  statusText?: string
): Response {
  return new Response(`${reason}\n`, {
    status,
    statusText,
    headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
  })
}
