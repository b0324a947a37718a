/**
 * A Hono proxy app with an `onError` of its own answers its errors inside the routes `route()`
 * mounts, and the proxy never sees them. The test kit mounts the app's routes again in an app of
 * its own whose error handler tells the kit and then answers with the app's handler: the client
 * gets what the app answers, `errors` gets the error, and the app is not changed.
 * @module
 */
import { Hono } from 'hono'
import type { ErrorHandler, MiddlewareHandler } from 'hono'
import type { Handler } from '../app/fetch-handler'
import { toFallthroughHandler } from '../app/fetch-handler'
import type { App } from '../types'

/** What `route()` itself reads of a Hono app; `errorHandler` is public at run time. */
interface Mountable {
  routes: { method: string; path: string; handler: MiddlewareHandler }[]
  errorHandler: ErrorHandler
}

/** The error handler every Hono app of this copy of hono starts with. */
const HONO_DEFAULT = (new Hono() as unknown as Mountable).errorHandler

/**
 * The fall-through handler of `app` (fetch-handler.ts), telling `report` the errors its own
 * `onError` answers. Its routes are copied on the first request, as the router is built then, so
 * routes added before it count. An `HTTPException` is an answer, as the proxy takes it.
 */
export function seeingOwnErrors(
  app: App,
  report: (error: Error, request: Request) => void
): Handler {
  const mountable = app as unknown as Partial<Mountable>
  const own = mountable.errorHandler
  if (!Array.isArray(mountable.routes) || own === undefined || own === HONO_DEFAULT) {
    return toFallthroughHandler(app)
  }
  const view = new Hono()
  view.onError((error, c) => {
    if (!('getResponse' in error)) {
      report(error, c.req.raw)
    }
    return own(error, c)
  })
  const handler = toFallthroughHandler(view)
  let copied = false
  return (request, env) => {
    if (!copied) {
      copied = true
      for (const { method, path, handler: route } of mountable.routes ?? []) {
        view.on(method, path, route)
      }
    }
    return handler(request, env)
  }
}
