/**
 * The metric families of one proxy, in a registry of their own (never prom-client's global one,
 * so two proxies in one process keep separate figures), and how each log record and error
 * counts in them.
 * @module
 */
import type * as PromClientModule from 'prom-client'
import type { Counter, Histogram, OpenMetricsContentType, Registry } from 'prom-client'
import type { LogRecord, RequestRecord } from '../log/records'
import type { ErrorContext } from '../types'

/** The module prom-client exports, loaded only when metrics are on. */
export type PromClient = typeof PromClientModule

/** Figures read when scraped rather than counted as they change. */
export interface LiveFigures {
  /** Tunnels open now (CONNECT and SOCKS5). */
  tunnels(): number
  /** HTTP/2 sessions open now. */
  http2Sessions(): number
  /** Client connections open now on the proxy's servers, tunnels and idle ones included. */
  connections(): Promise<number>
}

/**
 * Request durations, in seconds: a local app answers in milliseconds, so the low buckets are
 * finer than prom-client's defaults.
 */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/** The families, registered in `registry`. */
export interface Families {
  registry: Registry<OpenMetricsContentType>
  requests: Counter<'protocol' | 'status_class' | 'route'>
  durations: Histogram<'protocol'>
  bytes: Counter<'protocol'>
  refusals: Counter<'status'>
  tunnelsOpened: Counter
  certificates: Counter<'source'>
  errors: Counter<'phase'>
}

/** Make a registry with the proxy's families and prom-client's process metrics. */
export function createFamilies(prom: PromClient, live: LiveFigures): Families {
  const registry = new prom.Registry<OpenMetricsContentType>()
  registry.setContentType(prom.openMetricsContentType)
  const registers = [registry]
  // Process figures: open fds, RSS, heap, event-loop delay (nodejs_eventloop_lag_*), GC.
  prom.collectDefaultMetrics({ register: registry })
  new prom.Gauge({
    name: 'wsgiprox_open_tunnels',
    help: 'Tunnels open now (CONNECT and SOCKS5)',
    registers,
    collect() {
      this.set(live.tunnels())
    },
  })
  new prom.Gauge({
    name: 'wsgiprox_http2_sessions',
    help: 'HTTP/2 sessions open now, inside tunnels',
    registers,
    collect() {
      this.set(live.http2Sessions())
    },
  })
  new prom.Gauge({
    name: 'wsgiprox_open_connections',
    help: 'Client connections open now (tunnels, idle and direct ones, the scrape included)',
    registers,
    async collect() {
      this.set(await live.connections())
    },
  })
  return {
    registry,
    requests: new prom.Counter({
      name: 'wsgiprox_requests_total',
      help: 'Requests answered, by protocol, status class and route',
      labelNames: ['protocol', 'status_class', 'route'],
      registers,
    }),
    durations: new prom.Histogram({
      name: 'wsgiprox_request_duration_seconds',
      help: 'From the request to the end of its response (WebSocket connections excluded)',
      labelNames: ['protocol'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    bytes: new prom.Counter({
      name: 'wsgiprox_response_bytes_total',
      help: 'Body bytes sent in responses (for WebSockets, all bytes written), by protocol',
      labelNames: ['protocol'],
      registers,
    }),
    refusals: new prom.Counter({
      name: 'wsgiprox_admission_refusals_total',
      help: 'Requests the proxy answered itself with a 4xx or 5xx, by status',
      labelNames: ['status'],
      registers,
    }),
    tunnelsOpened: new prom.Counter({
      name: 'wsgiprox_tunnels_opened_total',
      help: 'Tunnels opened (CONNECT and SOCKS5)',
      registers,
    }),
    certificates: new prom.Counter({
      name: 'wsgiprox_certificates_issued_total',
      help: 'Host certificates signed, or loaded from certsDir',
      labelNames: ['source'],
      registers,
    }),
    errors: new prom.Counter({
      name: 'wsgiprox_errors_total',
      help: 'Problems reported to onError, by phase',
      labelNames: ['phase'],
      registers,
    }),
  }
}

/** The protocol label of a request: `http/1.0`, `http/1.1`, `h2` or `ws`. */
export function protocolOf(record: RequestRecord): string {
  if (record.websocket) {
    return 'ws'
  }
  return record.httpVersion === '2.0' ? 'h2' : `http/${record.httpVersion}`
}

/** Count one log record. */
export function countRecord(families: Families, record: LogRecord): void {
  switch (record.type) {
    case 'request': {
      const protocol = protocolOf(record)
      families.requests.inc({
        protocol,
        status_class: `${Math.floor(record.status / 100)}xx`,
        route: record.route,
      })
      if (record.bytes) {
        families.bytes.inc({ protocol }, record.bytes)
      }
      if (record.route === 'proxy' && record.status >= 400) {
        families.refusals.inc({ status: String(record.status) })
      }
      // A WebSocket's duration is the life of its connection, not a response time.
      if (!record.websocket) {
        families.durations.observe({ protocol }, record.durationMs / 1000)
      }
      return
    }
    case 'tunnel-open':
      families.tunnelsOpened.inc()
      return
    case 'certificate':
      families.certificates.inc({ source: record.source })
      return
    default:
  }
}

/** Count one error reported to onError. */
export function countError(families: Families, context: ErrorContext): void {
  families.errors.inc({ phase: context.phase })
}
