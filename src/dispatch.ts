/**
 * Dispatch: a request for a proxy host goes to that host's app first (the download app, the
 * user's per-host apps), and what it does not handle, like everything else, to the main app.
 * The route is read from the request itself: admission wrote the proxy host and the Host header
 * it admitted, and stripped any the client sent.
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { toError } from './errors'
import type { Handler } from './fetch-handler'
import { isFallthrough, toFetchHandler } from './fetch-handler'
import { forHttp10 } from './http10'
import { describe } from './target'
import { PROXY_HOST_HEADER } from './translate'
import type { App, ErrorContext } from './types'
import { noteUpgradeStatus } from './upgrade-log'

/** The env @hono/node-server passes along with each Request. */
interface NodeEnv {
  incoming?: IncomingMessage
  outgoing?: ServerResponse
}

/** Routes requests to apps. */
export interface Dispatcher {
  /** The Fetch callback for @hono/node-server: routes by the admitted request's headers. */
  fetch(request: Request, env: unknown): Response | Promise<Response>
  /** Run the apps for `request`, the proxy app of `host` first when there is one. */
  handle(request: Request, env: unknown, host: string | undefined): Response | Promise<Response>
}

/**
 * The proxy host whose app gets an admitted request first, or `undefined` for the main app.
 * Requests the resolver translated carry the configured proxy host too, but their Host is the
 * site they asked for: only a request whose Host is that proxy host is for its app.
 */
export function routeOf(
  hostApps: ReadonlyMap<string, Handler>,
  proxyHost: string | null | undefined,
  host: string | null | undefined
): string | undefined {
  if (!proxyHost || !host || !hostApps.has(proxyHost)) {
    return undefined
  }
  return host === proxyHost || host.startsWith(`${proxyHost}:`) ? proxyHost : undefined
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
  const orNotFound = (response: unknown): Response => {
    if (response instanceof Response) {
      return response
    }
    if (response === undefined) {
      return notFound()
    }
    return failed(new TypeError(`the app returned ${describe(response)}, not a Response`))
  }

  const callMain = (request: Request, env: unknown): Response | Promise<Response> => {
    try {
      const response = mainHandler(request, env)
      return response instanceof Promise ? response.then(orNotFound, failed) : orNotFound(response)
    } catch (error) {
      return failed(error)
    }
  }

  const callHostApp = async (handler: Handler, request: Request, env: unknown) => {
    // A sub-app may read the body only if it handles the request; the main app may need it.
    const response = await handler(request, env)
    return response === undefined || isFallthrough(response) ? callMain(request, env) : response
  }

  const handle = (request: Request, env: unknown, host: string | undefined) => {
    const handler = host === undefined ? undefined : hostApps.get(host)
    if (!handler) {
      return callMain(request, env)
    }
    return callHostApp(handler, request, env).catch(failed)
  }

  return {
    fetch(request, env) {
      const { incoming, outgoing } = (env ?? {}) as NodeEnv
      const headers: IncomingHttpHeaders | undefined = incoming?.headers
      const proxyHost = headers?.[PROXY_HOST_HEADER]
      // HTTP/2 requests carry the admitted host in :authority.
      const host = headers?.[':authority'] ?? headers?.host
      const route = routeOf(
        hostApps,
        typeof proxyHost === 'string' ? proxyHost : undefined,
        typeof host === 'string' ? host : undefined
      )
      const response = handle(request, env, route)
      // A WebSocket upgrade (no response object): node-server writes the app's answer itself.
      if (incoming && !outgoing) {
        return Promise.resolve(response).then((result) => {
          noteUpgradeStatus(incoming, result.status)
          return result
        })
      }
      // HTTP/1.0 has no chunked encoding: such clients get a Content-Length where the body is
      // short, and a body the connection's close ends where it is not.
      if (incoming?.httpVersionMinor === 0 && incoming.httpVersionMajor === 1) {
        return Promise.resolve(response).then((result) => forHttp10(result, outgoing))
      }
      return response
    },
    handle,
  }
}

function notFound(): Response {
  return new Response('Not Found\n', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
}
