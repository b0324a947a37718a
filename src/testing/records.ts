/**
 * What a test asks after the fact: the request records `onLog` produces and the problems
 * `onError` reports, gathered in arrays, still passed on to the user's own callbacks.
 * @module
 */
import type { LogRecord, RequestRecord } from '../log/records'
import type { ErrorContext } from '../types'

/** A problem the proxy reported to `onError`. */
export interface ReportedError {
  error: Error
  context: ErrorContext
}

/** The gathered records and the callbacks that fill them. */
export interface Records {
  readonly requests: RequestRecord[]
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
  const requests: RequestRecord[] = []
  const errors: ReportedError[] = []
  return {
    requests,
    errors,
    onLog: (record) => {
      if (record.type === 'request') {
        requests.push(record)
      }
      onLog?.(record)
    },
    onError: (error, context) => {
      errors.push({ error, context })
      onError?.(error, context)
    },
    clear: () => {
      requests.length = 0
      errors.length = 0
    },
  }
}
