/**
 * Dispatch: a request admitted for a proxy host with an app goes to that app first (the download
 * app, the PAC file, the user's per-host apps), and what it does not handle, like everything else,
 * to the main app. The route is admission's decision, handed in: nothing is read back from the
 * request's headers.
 * @module
 */
import type { HttpBindings } from '@hono/node-server'
import { describe } from '../admission/target'
import { toError } from '../errors'
import type { App, ErrorContext } from '../types'
import { guardBody } from './body-guard'
import type { Ending } from './body-guard'
import type { Handler } from './fetch-handler'
import { isFallthrough, toFetchHandler } from './fetch-handler'
import { sliceLarge } from './h2-slices'
import { forHttp10 } from './http10'
import { unsendable } from './response-guard'
import { adoptResponse } from './response-parts'

/** The Fetch callback @hono/node-server calls, with the env it passes along. */
export type FetchCallback = (request: Request, env: unknown) => Response | Promise<Response>

/** Routes requests to apps. */
export interface Dispatcher {
  /**
   * The Fetch callback for requests admitted for `route` (`undefined`: the main app); with
   * `http2`, for HTTP/2 streams, whose large bodies go out in slices.
   */
  forRoute(route: string | undefined, http2?: boolean): FetchCallback
  /** Run the apps for `request`, the proxy app of `route` first when there is one. */
  handle(request: Request, env: unknown, route: string | undefined): Response | Promise<Response>
}

/** Build the dispatcher from the main app and the proxy apps keyed by host. */
export function createDispatcher(
  main: App,
  hostApps: ReadonlyMap<string, Handler>,
  onError: (error: Error, context: ErrorContext) => void
): Dispatcher {
  const mainHandler = toFetchHandler(main)

  const failed = (error: unknown): Response => {
    onError(toError(error), { phase: 'app' })
    return new Response('Internal Server Error: the app failed\n', {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })
  }
  /**
   * What the app answered, as the response to send (settled for `outgoing`, when given). A
   * thenable is awaited, as `await` takes one: an async app's thenable is awaited by the language
   * already, so a sync app's is too, on every way in.
   */
  const orNotFound = (response: unknown, outgoing?: Ending): Response | Promise<Response> => {
    if (response instanceof Response) {
      try {
        // What awaiting it reads: a Proxy of a Response may throw there, past every guard. A
        // plain read, which V8's inline cache answers: `Reflect.get` took the generic lookup
        // through node-server's Response prototype, about 400 instructions a request.
        thenOf(response)
      } catch (error) {
        return settle(badGateway(toError(error).message), outgoing)
      }
      return settle(response, outgoing)
    }
    const made = notAResponse(response)
    return made instanceof Promise
      ? made.then(
          (value) => orNotFound(value, outgoing),
          (error: unknown) => settle(failed(error), outgoing)
        )
      : settle(made, outgoing)
  }
  /** The answer to what is not a Response: a 404, an adopted Response, a 502, or a thenable's. */
  const notAResponse = (response: unknown): Response | Promise<unknown> => {
    if (response === undefined) {
      return notFound()
    }
    let then: unknown
    try {
      const adopted = adoptResponse(response)
      if (adopted) {
        return adopted
      }
      // Read once, and in the try: a getter or a Proxy's trap is the app's code too.
      then = thenOf(response)
    } catch (error) {
      return badGateway(toError(error).message)
    }
    if (typeof then === 'function') {
      // A throw in its `then`, or a rejection, is the app failing (500), as for a Promise.
      return new Promise((resolve, reject) => {
        ;(then as (ok: (value: unknown) => void, no: (error: unknown) => void) => unknown).call(
          response,
          resolve,
          reject
        )
      })
    }
    // Not thrown: answered, with what no Response can be. What the app returns is input.
    return badGateway(`the app returned ${describe(response)}, not a Response`)
  }
  const badGateway = (reason: string): Response =>
    new Response(unsendable(reason, onError), {
      status: 502,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })

  /** The answer to a body that failed before node-server wrote a byte of its response. */
  const failedBeforeHead = (error: unknown): Response =>
    badGateway(`its body failed before its response began: ${toError(error).message}`)

  /**
   * The answer `response` becomes: with `outgoing` (a response of HTTP/1.x or 2), one whose body
   * stream cannot fail (body-guard.ts), or a 502 where its body cannot be read. Passed as
   * arguments, not as a callback: the request path makes no closure per request.
   */
  const settle = (
    response: Response,
    outgoing: Ending | undefined
  ): Response | Promise<Response> => {
    if (!outgoing) {
      return response
    }
    try {
      const guarded = guardBody(response, outgoing, onError)
      return guarded instanceof Promise ? guarded.catch(failedBeforeHead) : guarded
    } catch (error) {
      // A body node-server does not keep as it is (an ArrayBuffer, FormData) is read through a
      // Response of the platform's, which throws on a status or header it refuses: node-server
      // would answer an empty 500 and tell no one.
      return badGateway(toError(error).message)
    }
  }

  /** The main app's answer, settled in the same step (one promise, not two). */
  const callMain = (
    request: Request,
    env: unknown,
    outgoing?: Ending
  ): Response | Promise<Response> => {
    let response: ReturnType<Handler>
    try {
      response = mainHandler(request, env)
    } catch (error) {
      return settle(failed(error), outgoing)
    }
    return response instanceof Promise
      ? response.then(
          (value) => orNotFound(value, outgoing),
          (error: unknown) => settle(failed(error), outgoing)
        )
      : orNotFound(response, outgoing)
  }

  const callHostApp = async (handler: Handler, request: Request, env: unknown) => {
    // A sub-app may read the body only if it handles the request; the main app may need it.
    const response = await handler(request, env)
    return response === undefined || isFallthrough(response)
      ? callMain(request, env)
      : orNotFound(response)
  }

  const handle = (request: Request, env: unknown, route: string | undefined, outgoing?: Ending) => {
    const handler = route === undefined ? undefined : hostApps.get(route)
    if (!handler) {
      return callMain(request, env, outgoing)
    }
    return callHostApp(handler, request, env)
      .catch(failed)
      .then((response) => settle(response, outgoing))
  }

  const http1Callback =
    (key: string | undefined): FetchCallback =>
    (request, env) => {
      const { incoming, outgoing } = (env ?? NO_BINDINGS) as Partial<HttpBindings>
      if (outgoing) {
        if (!isHttp10(incoming)) {
          return handle(request, env, key, outgoing)
        }
        // HTTP/1.0 has no chunked encoding: such clients get a Content-Length where the body
        // is short, and a body the connection's close ends where it is not. Only the framing
        // differs: the status and headers reach the response guard as for HTTP/1.1. A body
        // that fails while it is held has sent nothing yet: that is a 502 still.
        return Promise.resolve(handle(request, env, key)).then((result) =>
          forHttp10(result, outgoing, failedBeforeHead).then(
            (held) => settle(held, outgoing),
            // Parts a Response of the platform's refuses to give (an ArrayBuffer body with
            // status 0): the guard answers them as it does for HTTP/1.1.
            () => settle(result, outgoing)
          )
        )
      }
      // A WebSocket upgrade (no response object; app-server.ts answers it) or the Fetch entry.
      return handle(request, env, key)
    }

  // A callback of its own, so that the HTTP/1 path above tests nothing for HTTP/2.
  const http2Callback =
    (key: string | undefined): FetchCallback =>
    (request, env) => {
      const { outgoing } = env as HttpBindings
      const result = handle(request, env, key, outgoing)
      return result instanceof Promise
        ? result.then((response) => sliceLarge(response, outgoing))
        : sliceLarge(result, outgoing)
    }

  const callbacks = new Map<string | undefined, FetchCallback>()
  const http2Callbacks = new Map<string | undefined, FetchCallback>()
  return {
    forRoute(route, http2 = false) {
      const key = route !== undefined && hostApps.has(route) ? route : undefined
      const made = http2 ? http2Callbacks : callbacks
      let callback = made.get(key)
      if (!callback) {
        callback = http2 ? http2Callback(key) : http1Callback(key)
        made.set(key, callback)
      }
      return callback
    },
    handle,
  }
}

/** The env of a request node-server did not make (the Fetch-only entry). */
const NO_BINDINGS: Partial<HttpBindings> = {}

/**
 * Whether the body is framed for HTTP/1.0. Not for a HEAD: no body follows its head, which would
 * wait for the app's body (held for a length) and perhaps for ever (a long poll).
 */
function isHttp10(incoming: Partial<HttpBindings>['incoming']): boolean {
  return (
    incoming?.httpVersionMajor === 1 &&
    incoming.httpVersionMinor === 0 &&
    incoming.method !== 'HEAD'
  )
}

/** The `then` of what the app returned, as `await` reads it: only objects and functions have one. */
function thenOf(value: unknown): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
    ? (value as { then?: unknown }).then
    : undefined
}

function notFound(): Response {
  return new Response('Not Found\n', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
}
