/**
 * Metrics for operators (`metrics: true`): the proxy's own log records and errors, counted in
 * prom-client families and served as OpenMetrics text at `http://<proxyHost>/metrics`. Nothing
 * here is loaded or run unless metrics are on.
 * @module
 */
import type { Handler } from '../app/fetch-handler'
import { toError } from '../errors'
import type { LogRecord } from '../log/records'
import type { NormalizedOptions } from '../options'
import type { ErrorContext } from '../types'
import { isClientLeft } from '../util/callbacks'
import { createMetricsEndpoint } from './endpoint'
import type { Families, LiveFigures } from './families'
import { countError, countRecord, createFamilies } from './families'

/**
 * What may wait while prom-client loads (a proxy attached to a server counts from its first
 * connection; `listen()` waits for the load): past this, records are not counted.
 */
const PENDING_MAX = 10_000

/** The metrics of one proxy. */
export interface Metrics {
  /** Resolves once prom-client is loaded and the families exist. */
  ready: Promise<unknown>
  /** `options` with onLog and onError that count, then call the user's own. */
  observe(options: NormalizedOptions): NormalizedOptions
  /** `GET /metrics` on the proxy host; other requests fall through. */
  handler: Handler
}

/** Start loading prom-client and count what the proxy reports. */
export function createMetrics(live: LiveFigures): Metrics {
  let families: Families | undefined
  const pending: ((families: Families) => void)[] = []
  const later = (count: (families: Families) => void) => {
    if (pending.length < PENDING_MAX) {
      pending.push(count)
    }
  }
  const ready = import('prom-client').then(
    (prom) => {
      const made = createFamilies(prom, live)
      families = made
      for (const count of pending.splice(0)) {
        count(made)
      }
      return made
    },
    (error: unknown) => {
      throw new Error(`metrics: true needs the prom-client package: ${toError(error).message}`, {
        cause: error,
      })
    }
  )
  // listen() and each scrape report a failed load; a proxy only attached must not die of it.
  ready.catch(() => {})

  return {
    ready,
    observe(options) {
      const { onLog: userLog, onError: userError } = options
      const onLog = (record: LogRecord) => {
        if (families) {
          countRecord(families, record)
        } else {
          later((loaded) => {
            countRecord(loaded, record)
          })
        }
        userLog?.(record)
      }
      const onError = (error: Error, context: ErrorContext) => {
        // Counted as the user's onError is told: not of clients that simply went away.
        if (isClientLeft(error)) {
          return
        }
        if (families) {
          countError(families, context)
        } else {
          later((loaded) => {
            countError(loaded, context)
          })
        }
        userError(error, context)
      }
      return { ...options, onLog, onError }
    },
    handler: createMetricsEndpoint(ready),
  }
}
