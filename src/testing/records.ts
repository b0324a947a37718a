/**
 * What a test asks after the fact: the request records `onLog` produces and the problems
 * `onError` reports, gathered in arrays, still passed on to the user's own callbacks.
 * @module
 */
import type { LogRecord } from '../log/records'
import type { ErrorContext } from '../types'
import { now } from '../util/clock'
import type { TestRequestRecord } from './seen'
import { withSeen } from './seen'

/** A problem the proxy reported to `onError`. */
export interface ReportedError {
  error: Error
  context: ErrorContext
  /** When the request whose app failed arrived; for other errors, when it was reported. */
  time: Date
}

/** Where `now()` counts from, in epoch milliseconds; read once, as `now` is. */
const ORIGIN = performance.timeOrigin

/**
 * When the request each error was thrown for arrived, as the test kit's apps mark it: an error
 * is reported when the app fails, which for a request asked before `clear()` can be after it.
 */
const arrivals = new WeakMap<object, number>()

/** Note that `error`, thrown by an app, belongs to a request that arrived at `arrival`. */
export function markArrival(error: unknown, arrival: number): void {
  if (typeof error === 'object' && error !== null && !arrivals.has(error)) {
    arrivals.set(error, arrival)
  }
}

/** The gathered records and the callbacks that fill them. */
export interface Records {
  readonly requests: TestRequestRecord[]
  readonly errors: ReportedError[]
  onLog: (record: LogRecord) => void
  onError: (error: Error, context: ErrorContext) => void
  clear: () => void
}

/** Gather request records and errors, and call `onLog` and `onError` too when given. */
export function createRecords(
  onLog?: (record: LogRecord) => void,
  onError?: (error: Error, context: ErrorContext) => void
): Records {
  const requests: TestRequestRecord[] = []
  const requestArrivals: number[] = []
  const errors: ReportedError[] = []
  // A request asked before clear() belongs to the test before it, though its response may end
  // (and its record come) while the next test runs: background calls, an unread body, a
  // WebSocket the test did not wait for. So does the error its app throws then.
  let clearedAt = -Infinity
  return {
    requests,
    errors,
    onLog: (record) => {
      if (record.type === 'request') {
        const arrival = now() - record.durationMs
        if (arrival >= clearedAt) {
          insertByArrival(requests, requestArrivals, withSeen(record), arrival)
        }
      }
      onLog?.(record)
    },
    onError: (error, context) => {
      const arrival = arrivals.get(error) ?? now()
      if (arrival >= clearedAt) {
        errors.push({ error, context, time: new Date(ORIGIN + arrival) })
      }
      onError?.(error, context)
    },
    clear: () => {
      clearedAt = now()
      requests.length = 0
      requestArrivals.length = 0
      errors.length = 0
    },
  }
}

/**
 * Records come when responses end, but a test asserts on the order things were asked in: a slow
 * request that arrived first stays first. A record is made as its response ends, so its arrival
 * is now less its duration, finer than its `time` (milliseconds). `arrivals` runs beside `records`.
 */
function insertByArrival(
  records: TestRequestRecord[],
  arrivals: number[],
  record: TestRequestRecord,
  arrival: number
): void {
  let at = records.length
  while (at > 0 && (arrivals[at - 1] ?? 0) > arrival) {
    at -= 1
  }
  records.splice(at, 0, record)
  arrivals.splice(at, 0, arrival)
}
