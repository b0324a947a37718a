/**
 * Values that are ready now or later. The request path stays synchronous where every callback
 * answered at once, and becomes a Promise only where one did not.
 * @module
 */

/** A value now, or later. */
export type Settled<T> = T | Promise<T>

/** Apply `next` to a value now or later, without a Promise when there is none. */
export function andThen<T, U>(value: Settled<T>, next: (value: T) => Settled<U>): Settled<U> {
  return value instanceof Promise ? value.then(next) : next(value)
}

/** Whether a user's callback answered with something to wait for (any thenable, as `await`). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** `value`, or a rejection once `ms` have passed without it settling. */
export function withDeadline<T>(value: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not answer within ${ms} ms`))
    }, ms)
  })
  return Promise.race([Promise.resolve(value), late]).finally(() => {
    clearTimeout(timer)
  })
}

/**
 * Call a user's callback whose answer does not matter (a logger, an error handler): a throw, or
 * a Promise that rejects, goes to `failed` once and changes nothing else.
 */
export function callAndForget(call: () => unknown, failed: (error: unknown) => void): void {
  let value: unknown
  let later: boolean
  try {
    value = call()
    // Inside the try: reading `then` runs the user's code too (a getter, a Proxy's trap).
    later = isThenable(value)
  } catch (error) {
    failed(error)
    return
  }
  if (later) {
    Promise.resolve(value).then(undefined, failed)
  }
}
