/**
 * wsgiprox: an HTTP, HTTPS (TLS interception) and WebSocket proxy whose every request is
 * answered by a local Fetch-style app.
 * @example
 * import { Hono } from 'hono'
 * import { createProxy } from 'wsgiprox'
 *
 * const app = new Hono().get('*', (c) => c.text(`you asked for ${c.req.path}`))
 * const proxy = createProxy(app, { prefix: '/prefix/' })
 * await proxy.listen(8080, '127.0.0.1')
 * @module wsgiprox
 */
export { createProxy, DEFAULT_HOST, DEFAULT_PORT } from './proxy'
export { FixedResolver, ProxyAuthResolver } from './admission/resolvers'
export { CA_DEFAULTS, CertificateAuthority } from './ca/authority'
export type { CaOptions, HostCertificate, IssueEvent } from './ca/authority'
export type {
  CertificateRecord,
  ClientAddress,
  LogRecord,
  RequestRecord,
  TunnelEventRecord,
  TunnelRecord,
} from './log/records'
export { runCluster, CLUSTER_DEFAULTS } from './cluster/cluster'
export type { Cluster, ClusterEvent, ClusterOptions } from './cluster/cluster'
export {
  WsgiproxError,
  OptionsError,
  InvalidHostError,
  CaFileError,
  WorkerStartError,
} from './errors'
export { PROXY_HOST_HEADER } from './app/rewrite'
export { DEFAULTS } from './options'
export type {
  App,
  ErrorContext,
  FetchApp,
  FetchHandler,
  PacOptions,
  Proxy,
  ProxyApps,
  ProxyOptions,
  ResolveFunction,
  Resolver,
} from './types'
export { startProxy } from './testing/start-proxy'
export type {
  FetchInitDispatcher,
  TestProxy,
  TestProxyCa,
  TestProxyOptions,
} from './testing/start-proxy'
export type { ReportedError } from './testing/records'
export type { RecordedBody } from './testing/recorded-body'
export type { TestRequestRecord } from './testing/seen'
