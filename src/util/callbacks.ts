/**
 * The user's `onError` and `onLog` as the proxy calls them: neither can throw into the request
 * path, and a Promise either returns is caught.
 * @module
 */
import { describe } from '../admission/target'
import { OptionsError, toError } from '../errors'
import type { LogRecord } from '../log/records'
import type { ErrorContext } from '../types'
import { callAndForget } from './settled'

type OnError = (error: Error, context: ErrorContext) => void

const ignoreError = () => {}

/**
 * Clients close connections whenever they like (a browser leaving a page resets its tunnels):
 * that is no problem of the proxy's, so it is not reported.
 */
const CLIENT_LEFT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

/** Whether `error` only says that a client went away, which `onError` is not told of. */
export function isClientLeft(error: Error): boolean {
  return CLIENT_LEFT.has((error as NodeJS.ErrnoException).code ?? '')
}

/**
 * The user's onError, told only of real problems, and unable to take the proxy down: a throw or
 * a rejected Promise from it has nowhere left to be reported, and the proxy carries on.
 */
export function safeOnError(onError: (error: Error, context: ErrorContext) => unknown): OnError {
  return (error, context) => {
    if (isClientLeft(error)) {
      return
    }
    callAndForget(() => onError(error, context), ignoreError)
  }
}

/**
 * `onError`, told of each error once. One failure can reach the proxy two ways: an HTTP/2
 * session that ends on a protocol error (a CONTINUATION flood) reports it as a session error and
 * destroys its socket with the same error object, which the tunnel reports too. Told twice, the
 * user and the metrics would count two problems where there was one.
 */
export function oncePerError(onError: OnError): OnError {
  const told = new WeakSet<Error>()
  return (error, context) => {
    if (told.has(error)) {
      return
    }
    told.add(error)
    onError(error, context)
  }
}

/**
 * The user's onLog, unable to fail the request it logs: a throw or a rejected Promise (a log
 * store that is down) is told to onError once per record, with phase `log`.
 */
export function logOption(
  onLog: unknown,
  onError: OnError
): ((record: LogRecord) => void) | undefined {
  if (onLog === undefined) {
    return undefined
  }
  if (typeof onLog !== 'function') {
    throw new OptionsError(`onLog must be a function (record) => void, got ${describe(onLog)}`)
  }
  const log = onLog as (record: LogRecord) => unknown
  const failed = (error: unknown) => {
    onError(toError(error), { phase: 'log' })
  }
  return (record) => {
    callAndForget(() => log(record), failed)
  }
}
