/**
 * The one place where defaults live, and the checks that turn bad options into clear errors at
 * `createProxy`, before anything listens.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { describe } from './admission/target'
import { websocketMaxPayloadOption, websocketOption } from './app/websocket-options'
import { CertificateAuthority } from './ca/authority'
import type { CaOptions } from './ca/authority'
import { DEFAULTS } from './defaults'
import { OptionsError } from './errors'
import type { LogRecord } from './log/records'
import {
  booleanOption,
  caOption,
  hostOption,
  pacOption,
  positive,
  proxyAppsOption,
  resolverOption,
} from './option-checks'
import type { App, ErrorContext, PacOptions, ProxyOptions, Resolver } from './types'
import { logOption, safeOnError } from './util/callbacks'

export { DEFAULTS }

/** Options after defaults and checks: what the rest of the code reads. */
export interface NormalizedOptions {
  resolver: Resolver
  proxyHost: string
  downloadHost: string
  proxyApps: ReadonlyMap<string, App | null>
  ca: CaOptions | CertificateAuthority
  enableWebsockets: boolean
  /** The user's WebSocket server; `undefined`: the proxy makes its own. */
  websocketServer: WebSocketServerLike | undefined
  enableCertDownload: boolean
  useWildcardCerts: boolean
  http2: boolean
  keepaliveMax: number
  handshakeTimeoutMs: number
  admissionTimeoutMs: number
  http2IdleTimeoutMs: number
  websocketMaxPayload: number
  /** Require a PROXY protocol header in front of every connection. */
  proxyProtocol: boolean
  /** Speak SOCKS5 to connections whose first byte is 0x05. */
  socks: boolean
  /** The PAC file; `undefined` when it is off. */
  pac: PacOptions | undefined
  /** Serve OpenMetrics at `http://<proxyHost>/metrics`. */
  metrics: boolean
  /** Never throws, and is not told of clients that simply went away. */
  onError: (error: Error, context: ErrorContext) => void
  /** The user's onLog, unable to throw; `undefined` when not set, so nothing is recorded. */
  onLog: ((record: LogRecord) => void) | undefined
}

/** Every option `createProxy` knows, so that a misspelt one is refused rather than ignored. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set<string>([
  'prefix',
  'resolver',
  'proxyHost',
  'downloadHost',
  'proxyApps',
  'ca',
  'enableWebsockets',
  'websocket',
  'enableCertDownload',
  'useWildcardCerts',
  'http2',
  'keepaliveMax',
  'handshakeTimeoutMs',
  'admissionTimeoutMs',
  'http2IdleTimeoutMs',
  'websocketMaxPayload',
  'proxyProtocol',
  'socks',
  'pac',
  'metrics',
  'onError',
  'onLog',
] satisfies (keyof ProxyOptions)[])

const ignoreError = () => {}

/**
 * Refuse a key of `options` that is neither an option of `createProxy` nor one of `extra` (the
 * options of a caller that takes more, as `startProxy` takes `port`), naming the option a
 * miswritten case may have meant and listing them all.
 */
export function checkKnownOptions(options: object, extra: readonly string[] = []): void {
  const known = [...extra, ...KNOWN_OPTIONS]
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const meant = known.find((name) => name.toLowerCase() === key.toLowerCase())
      throw new OptionsError(
        `unknown option ${JSON.stringify(key)}; ${meant ? `did you mean ${meant}? The` : 'the'} options are ${known.join(', ')}`
      )
    }
  }
}

/** Fill in defaults and refuse what cannot work, naming the option and the fix. */
export function normalizeOptions(options: ProxyOptions = {}): NormalizedOptions {
  // Checked as what a JavaScript caller may pass, not as what the type promises.
  const given: unknown = options
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new OptionsError(`options must be an object, got ${describe(options)}`)
  }
  checkKnownOptions(options)
  const proxyHost = hostOption('proxyHost', options.proxyHost ?? DEFAULTS.proxyHost)
  const downloadHost = hostOption('downloadHost', options.downloadHost ?? proxyHost)
  const keepaliveMax = options.keepaliveMax ?? DEFAULTS.keepaliveMax
  if (!Number.isInteger(keepaliveMax) || keepaliveMax < -1) {
    throw new OptionsError(
      `keepaliveMax must be an integer >= -1 (0: no limit, -1: one request per tunnel), got ${describe(keepaliveMax)}`
    )
  }
  const onError = options.onError ?? ignoreError
  if (typeof onError !== 'function') {
    throw new OptionsError(
      `onError must be a function (error, context) => void, got ${describe(onError)}`
    )
  }
  const safeError = safeOnError(onError)
  return {
    resolver: resolverOption(options.resolver, options.prefix),
    proxyHost,
    downloadHost,
    proxyApps: proxyAppsOption(options.proxyApps),
    ca: caOption(options.ca),
    enableWebsockets: booleanOption('enableWebsockets', options.enableWebsockets),
    websocketServer: websocketOption(options.websocket),
    enableCertDownload: booleanOption('enableCertDownload', options.enableCertDownload),
    useWildcardCerts: booleanOption('useWildcardCerts', options.useWildcardCerts),
    http2: booleanOption('http2', options.http2),
    proxyProtocol: booleanOption('proxyProtocol', options.proxyProtocol),
    socks: booleanOption('socks', options.socks),
    pac: pacOption(options.pac),
    metrics: booleanOption('metrics', options.metrics),
    keepaliveMax,
    handshakeTimeoutMs: positive('handshakeTimeoutMs', options.handshakeTimeoutMs),
    admissionTimeoutMs: positive('admissionTimeoutMs', options.admissionTimeoutMs),
    http2IdleTimeoutMs: positive('http2IdleTimeoutMs', options.http2IdleTimeoutMs),
    websocketMaxPayload: websocketMaxPayloadOption(options),
    onError: safeError,
    onLog: logOption(options.onLog, safeError),
  }
}

/** Open the CA the options describe, or take the one they carry. */
export function openCa(ca: CaOptions | CertificateAuthority): Promise<CertificateAuthority> {
  return ca instanceof CertificateAuthority ? Promise.resolve(ca) : CertificateAuthority.open(ca)
}
