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

/**
 * The handler; anything but `GET /metrics` is left to the proxy host's other apps (`HEAD` is
 * asked as `GET` by `withHeadAsGet`, which the proxy puts in front of it).
 */
export function createMetricsEndpoint(families: Promise<Families>): Handler {
  return async (request) => {
    if (request.method !== 'GET') {
      return undefined
    }
    if (new URL(request.url).pathname !== METRICS_PATH) {
      return undefined
    }
    const { registry } = await families
    const body = await registry.metrics()
    return new Response(body, {
      headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
    })
  }
}
