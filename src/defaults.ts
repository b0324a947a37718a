/**
 * The one place where the defaults of {@link ProxyOptions} live.
 * @module
 */
import { DEFAULT_PREFIX } from './admission/resolvers'
import { DEFAULT_WEBSOCKET_MAX_PAYLOAD } from './app/websocket-options'

/** Every default of {@link ProxyOptions}. */
export const DEFAULTS = {
  prefix: DEFAULT_PREFIX,
  proxyHost: 'wsgiprox',
  enableWebsockets: true,
  enableCertDownload: true,
  useWildcardCerts: true,
  http2: true,
  keepaliveMax: 50,
  handshakeTimeoutMs: 10_000,
  admissionTimeoutMs: 30_000,
  http2IdleTimeoutMs: 5_000,
  websocketMaxPayload: DEFAULT_WEBSOCKET_MAX_PAYLOAD,
  proxyProtocol: false,
  socks: true,
  pac: true,
  metrics: false,
} as const
