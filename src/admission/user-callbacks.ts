/**
 * The user's `requireAuth` and `resolve`, called here and nowhere else. Whatever they do (throw,
 * reject, answer with the wrong type, never answer) the request is refused with `500` and a
 * reason, and `onError` is told with phase `admission`: admission fails closed.
 * @module
 */
import { toError } from '../errors'
import type { ErrorContext, Resolver } from '../types'
import type { Settled } from '../util/settled'
import { isThenable, withDeadline } from '../util/settled'
import type { Challenge, Refusal } from './decision'
import { refuse } from './decision'
import { describe, unsafePathReason } from './target'

/** What the callbacks need. */
export interface CallbackOptions {
  resolver: Resolver
  /** How long an async `requireAuth` or `resolve` may take before the request is refused. */
  admissionTimeoutMs: number
  onError: (error: Error, context: ErrorContext) => void
}

/** The user's callbacks, guarded. */
export interface UserCallbacks {
  /** Whether `requireAuth` exists: without it, no request is built to ask it. */
  readonly hasAuth: boolean
  /** Ask `requireAuth`: `undefined` lets the request on. */
  checkAuth(host: string, request: () => Request): Settled<Challenge | Refusal | undefined>
  /** Ask `resolve` for the path of `url`: a checked path, or a refusal. */
  resolve(url: string, request: () => Request, host: string): Settled<string | Refusal>
}

/** Guard the resolver's callbacks. */
export function guardCallbacks(options: CallbackOptions): UserCallbacks {
  const { resolver, admissionTimeoutMs, onError } = options

  /** Refuse because a user callback failed; the error goes to onError, the client gets 500. */
  const failed = (what: string, error: unknown, host: string | undefined): Refusal => {
    const cause = toError(error)
    onError(new Error(`${what} failed: ${cause.message}`, { cause }), { phase: 'admission', host })
    return refuse(500, `The proxy could not admit this request: ${what} failed`)
  }

  const acceptOrFail = <T>(
    what: string,
    host: string | undefined,
    value: unknown,
    accept: (value: unknown) => T
  ): T | Refusal => {
    try {
      return accept(value)
    } catch (error) {
      return failed(what, error, host)
    }
  }

  /**
   * Call a user callback, `call(first, second)`; a throw, a rejection or a wrong answer refuses
   * the request. The callers' functions are made once, not per request.
   */
  const guard = <A, B, T>(
    what: string,
    host: string | undefined,
    call: (first: A, second: B) => unknown,
    first: A,
    second: B,
    accept: (value: unknown) => T
  ): Settled<T | Refusal> => {
    let value: unknown
    let later: PromiseLike<unknown> | undefined
    try {
      value = call(first, second)
      // Inside the try: reading `then` runs the user's code too (a getter, a Proxy's trap).
      later = isThenable(value) ? value : undefined
    } catch (error) {
      return failed(what, error, host)
    }
    if (later) {
      return withDeadline(later, admissionTimeoutMs, what).then(
        (settled) => acceptOrFail(what, host, settled, accept),
        (error: unknown) => failed(what, error, host)
      )
    }
    return acceptOrFail(what, host, value, accept)
  }

  const hasAuth = typeof resolver.requireAuth === 'function'
  const askAuth = (request: () => Request) => resolver.requireAuth?.(request())
  const askPath = (url: string, request: () => Request) => resolver.resolve(url, request())

  return {
    hasAuth,
    checkAuth(host, request) {
      return hasAuth
        ? guard('requireAuth', host, askAuth, request, undefined, acceptRealm)
        : undefined
    },
    resolve(url, request, host) {
      return guard('resolve', host, askPath, url, request, acceptPath)
    },
  }
}

function acceptRealm(realm: unknown): Challenge | undefined {
  if (realm === undefined) {
    return undefined
  }
  if (typeof realm !== 'string') {
    throw new TypeError(`it returned ${describe(realm)}, not a realm string or undefined`)
  }
  return { kind: 'challenge', realm }
}

function acceptPath(resolved: unknown): string {
  const problem = unsafePathReason(resolved)
  if (problem !== undefined) {
    throw new TypeError(problem)
  }
  return resolved as string
}
