/**
 * One signature for every kind of app: Hono apps, `{ fetch }` objects and bare functions.
 * @module
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { routePath } from 'hono/route'
import type { App, FetchApp } from '../types'

/** The shape every app is called through; `undefined` means "not handled here". */
export type Handler = (
  request: Request,
  env: unknown
) => Response | undefined | Promise<Response | undefined>

/** Responses that mark "no route matched" in a proxy app, so the main app gets the request. */
const fallthroughs = new WeakSet<Response>()

/** Whether `response` is the marker of an unmatched route. */
export function isFallthrough(response: Response): boolean {
  return fallthroughs.has(response)
}

interface HonoLike extends FetchApp {
  route(path: string, app: HonoLike): unknown
  notFound(handler: () => Response): unknown
}

function isHono(app: App): app is HonoLike {
  return typeof app === 'object' && typeof (app as Partial<HonoLike>).route === 'function'
}

/** Call the main app: a Hono app, `{ fetch }` or a bare function. */
export function toFetchHandler(app: App): Handler {
  if (typeof app === 'function') {
    return app
  }
  return (request, env) => app.fetch(request, env)
}

/**
 * Call a proxy app so that what it does not handle falls through: a Hono sub-app is mounted in a
 * router whose not-found handler marks the request (built on first use, so routes added after
 * `createProxy` count), and a marked request gives `undefined`; a fetch handler falls through by
 * returning `undefined`. The mark is on the request, not the response: Hono answers HEAD with a
 * new Response made from the GET one, so a marked response would be lost for HEAD.
 */
export function toFallthroughHandler(app: App): Handler {
  if (!isHono(app)) {
    return toFetchHandler(app)
  }
  let router: Hono | undefined
  const unmatched = new WeakMap<Request, Context>()
  const settle = (request: Request, response: Response): Response | undefined => {
    const context = unmatched.get(request)
    if (!context) {
      return response
    }
    unmatched.delete(request)
    if (!context.finalized) {
      throw returnedNothing(request, context)
    }
    return undefined
  }
  return (request, env) => {
    if (!router) {
      router = new Hono()
      router.route('/', app as unknown as Hono)
      router.onError(rethrowUnlessHttpException)
      router.notFound((c) => {
        unmatched.set(c.req.raw, c)
        const response = new Response(null, { status: 404 })
        fallthroughs.add(response)
        return response
      })
    }
    const response = router.fetch(request, env)
    return response instanceof Promise
      ? response.then((result) => settle(request, result))
      : settle(request, response)
  }
}

/**
 * A route matched and returned nothing (a missing `return`). Hono answers that with its not-found
 * handler when the route is the only handler matched, and throws "Context is not finalized" when
 * middleware ran too; falling through here would hide the bug behind the main app's answer. An
 * unmatched request, or a handler that calls `next()`, leaves the context finalized (Hono
 * assigns `c.res` from the not-found handler), and still falls through.
 */
function returnedNothing(request: Request, c: Context): Error {
  return new Error(
    `the route ${request.method} ${routePath(c)} of the proxy app for ${new URL(request.url).host} returned no Response: return one (return c.json(...)), or call next() to let the request fall through`
  )
}

/**
 * The router's error handler. Hono's default prints the error (console.error) and answers 500;
 * rethrown, it reaches the proxy, which answers 500 and tells `onError` (phase `app`), as for
 * any app that throws. `route()` keeps a sub-app's own `onError` around its handlers, so only
 * apps without one get here. An `HTTPException` is still an answer, as Hono's default gives it.
 */
function rethrowUnlessHttpException(error: Error, c: Context): Response {
  if (!('getResponse' in error) || typeof error.getResponse !== 'function') {
    throw error
  }
  const response = (error.getResponse as () => Response).call(error)
  return c.newResponse(response.body, response)
}
