/**
 * What the proxy prints once it listens: where, with what, and how to try it.
 * @module
 */
import { addressHost } from '../admission/target'
import { CA_DEFAULTS } from '../ca/authority'
import type { CertificateAuthority } from '../ca/authority'
import { DEFAULTS } from '../options'
import { DEFAULT_HOST } from '../proxy'
import type { ServeTarget, ServeValues } from './serve-flags'

/** What the proxy prints once it listens: where, with what, and how to try it. */
export function banner(
  values: ServeValues,
  port: number,
  ca: CertificateAuthority,
  workers = 1,
  target?: ServeTarget
): string {
  // An IPv6 address needs its brackets in a URL (RFC 3986 §3.2.2): http://[::1]:8080.
  const proxyUrl = `http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  // With --auth-prefix a request without a user name gets 407: the commands to try give one.
  const tryUrl = values['auth-prefix']
    ? `http://coll1:x@${addressHost(values.host ?? DEFAULT_HOST)}:${port}`
    : proxyUrl
  const scale = [
    ...(workers > 1 ? [`${workers} workers (node:cluster)`] : []),
    ...(values['proxy-protocol'] ? ['PROXY protocol required on every connection'] : []),
  ]
  return [
    `wsgiprox listening on ${proxyUrl}`,
    `  SOCKS5 (same port): socks5h://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`,
    `  PAC file: http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}/proxy.pac`,
    ...(target
      ? [`  proxy host: ${proxyHost}`]
      : [
          `  app: ${values.app ?? 'built-in demo'}; prefix: ${values['auth-prefix'] ? '/<proxy user name>/' : (values.prefix ?? DEFAULTS.prefix)}; proxy host: ${proxyHost}`,
        ]),
    ...(scale.length > 0 ? [`  ${scale.join('; ')}`] : []),
    `  CA: ${ca.file ?? '(in memory)'} (SHA-256 ${ca.fingerprint256})`,
    ...ca.warnings.map((warning) => `  warning: ${warning}`),
    ...(target
      ? target.banner(proxyUrl, values['ca-file'] ?? CA_DEFAULTS.file).map((line) => `  ${line}`)
      : [
          `  try: curl -x ${tryUrl} http://example.com/`,
          `       curl --cacert ${values['ca-file'] ?? CA_DEFAULTS.file} -x ${tryUrl} https://example.com/`,
        ]),
    `  trust the CA: http://${proxyHost}/download/ (through the proxy)`,
    ...(values.metrics ? [`  metrics: curl -x ${proxyUrl} http://${proxyHost}/metrics`] : []),
    '',
  ].join('\n')
}
