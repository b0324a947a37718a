/**
 * Apps that can be replaced while the proxy runs: the proxy is given a stable function once, and
 * that function calls whichever app is current. Each new app gets its own handler (for a Hono
 * proxy app, its own router), so a swap never adds routes to a router that has already served a
 * request, which Hono refuses ("matcher is already built").
 * @module
 */
import type { Handler } from '../app/fetch-handler'
import { toFetchHandler } from '../app/fetch-handler'
import { appOption } from '../option-checks'
import type { App } from '../types'
import { now } from '../util/clock'
import { seeingOwnErrors } from './own-error-handler'
import { markArrival } from './records'

/** A stable handler and the way to change what it calls. */
export interface SwappableApp {
  /** What the proxy is given; it calls the current app. */
  readonly handler: Handler
  /** From the next request on, answer with `app`; `null` (proxy apps only): not handled here. */
  readonly set: (app: App | null) => void
}

/** What keeps the headers and body an app is about to see; whether it is recording a body. */
export type Look = (request: Request, env: unknown) => boolean

/** The main app: every request it gets is answered by the current app. */
export function swappableMainApp(app: App, look: Look): SwappableApp {
  let current = toFetchHandler(appOption('the app given to startProxy', app))
  return {
    handler: (request, env) => marked(current, request, env, look),
    set: (next) => {
      current = toFetchHandler(appOption('the app given to setApp', next))
    },
  }
}

const notHandled: Handler = () => undefined

/** When each request reached the kit's apps, for the errors an app's own `onError` answers. */
const arrivals = new WeakMap<Request, number>()

/**
 * A proxy app: what the current app does not handle (an unmatched Hono route, `undefined` from a
 * function) falls through to the main app, as with the proxy apps given to `createProxy`; `null`
 * hands every request of the host to the main app, as an alias does. `onOwnError` is told what a
 * Hono app's own `onError` answered.
 */
export function swappableProxyApp(
  host: string,
  app: App | null,
  onOwnError: (error: Error) => void,
  look: Look
): SwappableApp {
  const report = (error: Error, request: Request) => {
    markArrival(error, arrivals.get(request) ?? now())
    onOwnError(error)
  }
  const toHandler = (next: App | null) =>
    next === null
      ? notHandled
      : seeingOwnErrors(appOption(`the app given to setProxyApp for ${host}`, next), report)
  let current = toHandler(app)
  return {
    handler: (request, env) => marked(current, request, env, look),
    set: (next) => {
      current = toHandler(next)
    },
  }
}

/**
 * Call `handler`, once `look` has kept what it sees of the request, marking what it throws with the request's arrival, so that `clear()` can tell
 * the error of a request asked before it from one asked after.
 */
function marked(handler: Handler, request: Request, env: unknown, look: Look): ReturnType<Handler> {
  const recording = look(request, env)
  const arrival = now()
  arrivals.set(request, arrival)
  const mark = (error: unknown): never => {
    markArrival(error, arrival)
    throw error
  }
  try {
    const response = handler(request, env)
    if (response instanceof Promise) {
      return response.catch(mark)
    }
    // Answered at once, node-server sends the response and discards the rest of the body before
    // the recording copy of it is read; answered later, it leaves the body to be read.
    return recording ? Promise.resolve(response) : response
  } catch (error) {
    return mark(error)
  }
}
