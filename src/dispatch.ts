/**
 * Dispatch: proxy-host requests go to their proxy app first (the download app, the user's
 * per-host apps), whatever is not handled there and everything else to the main app.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Handler } from './fetch-handler'
import { isFallthrough, toFetchHandler } from './fetch-handler'
import type { App, ErrorContext } from './types'

/** The env @hono/node-server passes along with each Request. */
interface NodeEnv {
  incoming?: IncomingMessage
}

/** Routes requests to apps; `route(incoming, host)` is set by translation. */
export interface Dispatcher {
  /** The Fetch callback for @hono/node-server. */
  fetch(request: Request, env: unknown): Response | Promise<Response>
  /** Send `incoming` to the proxy app of `host` first. */
  route(incoming: IncomingMessage, host: string): void
  /** Whether `host` has a proxy app (as opposed to being an alias of the main app). */
  hasApp(host: string): boolean
  /** Run the apps for `request`, the proxy app of `host` first when there is one. */
  handle(request: Request, env: unknown, host: string | undefined): Response | Promise<Response>
}

/** Build the dispatcher from the main app and the proxy apps keyed by host. */
export function createDispatcher(
  main: App,
  hostApps: ReadonlyMap<string, Handler>,
  onError: (error: Error, context: ErrorContext) => void
): Dispatcher {
  const mainHandler = toFetchHandler(main)
  const routes = new WeakMap<IncomingMessage, string>()

  const failed = (error: unknown): Response => {
    onError(error instanceof Error ? error : new Error(String(error)), { phase: 'app' })
    return new Response('Internal Server Error\n', {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })
  }
  const orNotFound = (response: Response | undefined): Response =>
    response ?? new Response('Not Found\n', { status: 404 })

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
      const incoming = (env as NodeEnv | undefined)?.incoming
      const host = incoming && routes.get(incoming)
      const response = handle(request, env, host)
      // HTTP/1.0 has no chunked encoding: give such clients a Content-Length rather than a body
      // that only ends when the connection does.
      if (incoming?.httpVersionMinor === 0 && incoming.httpVersionMajor === 1) {
        return Promise.resolve(response).then(withContentLength)
      }
      return response
    },
    route(incoming, host) {
      routes.set(incoming, host)
    },
    hasApp(host) {
      return hostApps.has(host)
    },
    handle,
  }
}

async function withContentLength(response: Response): Promise<Response> {
  if (response.headers.has('content-length') || response.body === null) {
    return response
  }
  const body = new Uint8Array(await response.arrayBuffer())
  const headers = new Headers(response.headers)
  headers.set('content-length', String(body.byteLength))
  return new Response(body, { status: response.status, statusText: response.statusText, headers })
}
