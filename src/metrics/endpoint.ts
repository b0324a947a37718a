/**
 * `GET /metrics` on the proxy host: the registry as OpenMetrics text, the format Prometheus asks
 * for first and every OpenMetrics scraper reads.
 * @module
 * @see https://prometheus.io/docs/specs/om/open_metrics_spec/
 */
import type { Handler } from '../app/fetch-handler'
import type { Families } from './families'

/** Where the metrics are served, on the proxy host. */
export const METRICS_PATH = '/metrics'

/** The handler; anything but `GET`/`HEAD /metrics` is left to the proxy host's other apps. */
export function createMetricsEndpoint(families: Promise<Families>): Handler {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return undefined
    }
    if (new URL(request.url).pathname !== METRICS_PATH) {
      return undefined
    }
    const { registry } = await families
    const body = await registry.metrics()
    return new Response(request.method === 'HEAD' ? null : body, {
      headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
    })
  }
}
