/**
 * The one place where defaults live, and the checks that turn bad options into clear errors at
 * `createProxy`, before anything listens.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { CertificateAuthority } from './ca/authority'
import type { CaOptions } from './ca/authority'
import { resolveCaOptions } from './ca/options'
import { OptionsError } from './errors'
import type { LogRecord } from './log'
import { FixedResolver } from './resolvers'
import { describe, validHost } from './target'
import type { App, ErrorContext, PacOptions, ProxyOptions, Resolver } from './types'

/** Every default of {@link ProxyOptions}. */
export const DEFAULTS = {
  prefix: '/',
  proxyHost: 'wsgiprox',
  enableWebsockets: true,
  enableCertDownload: true,
  useWildcardCerts: true,
  http2: true,
  keepaliveMax: 50,
  handshakeTimeoutMs: 10_000,
  admissionTimeoutMs: 30_000,
  proxyProtocol: false,
  socks: true,
  pac: true,
  metrics: false,
} as const

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
const KNOWN_OPTIONS = new Set<string>([
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
  'proxyProtocol',
  'socks',
  'pac',
  'metrics',
  'onError',
  'onLog',
] satisfies (keyof ProxyOptions)[])

const ignoreError = () => {}

/** Fill in defaults and refuse what cannot work, naming the option and the fix. */
export function normalizeOptions(options: ProxyOptions = {}): NormalizedOptions {
  // Checked as what a JavaScript caller may pass, not as what the type promises.
  const given: unknown = options
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new OptionsError(`options must be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new OptionsError(
        `unknown option ${JSON.stringify(key)}; the options are ${[...KNOWN_OPTIONS].join(', ')}`
      )
    }
  }
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
    onError: safeOnError(onError),
    onLog: logOption(options.onLog),
  }
}

function hostOption(name: string, value: unknown): string {
  const host = typeof value === 'string' ? validHost(value) : undefined
  if (host === undefined) {
    throw new OptionsError(`${name} must be a host name such as 'wsgiprox', got ${describe(value)}`)
  }
  return host
}

function booleanOption(
  name:
    | 'enableWebsockets'
    | 'enableCertDownload'
    | 'useWildcardCerts'
    | 'http2'
    | 'proxyProtocol'
    | 'socks'
    | 'metrics',
  value: unknown
): boolean {
  if (value === undefined) {
    return DEFAULTS[name]
  }
  if (typeof value !== 'boolean') {
    throw new OptionsError(`${name} must be true or false, got ${describe(value)}`)
  }
  return value
}

/**
 * A host pattern as `shExpMatch` takes it: host characters and the wildcards `*` and `?`. The
 * pattern is written into the PAC file's script, so nothing else may get in.
 */
const PAC_PATTERN = /^[a-z0-9.*?_\-[\]:]{1,253}$/i

function pacOption(pac: unknown): PacOptions | undefined {
  if (pac === undefined || pac === true) {
    return { hosts: undefined }
  }
  if (pac === false) {
    return undefined
  }
  const given = typeof pac === 'object' && pac !== null ? (pac as Record<string, unknown>) : {}
  const hosts: unknown[] | undefined = Array.isArray(given.hosts) ? given.hosts : undefined
  const extra = Object.keys(given).filter((key) => key !== 'hosts')
  if (
    extra.length > 0 ||
    !hosts?.every((host): host is string => typeof host === 'string' && PAC_PATTERN.test(host))
  ) {
    throw new OptionsError(
      `pac must be true, false or { hosts: ['*.example.com', 'example.org'] } (shExpMatch patterns of host characters, * and ?), got ${describe(pac)}`
    )
  }
  return { hosts: hosts.map((host) => host.toLowerCase()) }
}

function resolverOption(resolver: unknown, prefix: unknown): Resolver {
  if (prefix !== undefined && typeof prefix !== 'string') {
    throw new OptionsError(
      `prefix must be a path string such as '/prefix/', got ${describe(prefix)}`
    )
  }
  if (resolver === undefined) {
    return new FixedResolver(prefix ?? DEFAULTS.prefix)
  }
  if (typeof resolver === 'function') {
    return { resolve: resolver as Resolver['resolve'] }
  }
  const candidate =
    typeof resolver === 'object'
      ? (resolver as { resolve?: unknown; requireAuth?: unknown } | null)
      : null
  if (typeof candidate?.resolve !== 'function') {
    throw new OptionsError(
      'resolver must be a function or an object with a resolve(url, request) method'
    )
  }
  if (candidate.requireAuth !== undefined && typeof candidate.requireAuth !== 'function') {
    throw new OptionsError('resolver.requireAuth must be a method (request) => realm | undefined')
  }
  return candidate as unknown as Resolver
}

function proxyAppsOption(apps: unknown): Map<string, App | null> {
  const map = new Map<string, App | null>()
  if (apps === undefined) {
    return map
  }
  if (typeof apps !== 'object' || apps === null || Array.isArray(apps)) {
    throw new OptionsError(
      `proxyApps must be an object of host → app or null, got ${describe(apps)}`
    )
  }
  for (const [host, app] of Object.entries(apps as Record<string, unknown>)) {
    const isApp =
      typeof app === 'function' ||
      (typeof app === 'object' &&
        app !== null &&
        typeof (app as { fetch?: unknown }).fetch === 'function')
    if (app !== null && !isApp) {
      throw new OptionsError(
        `proxyApps[${JSON.stringify(host)}] must be null (an alias), a Hono app, { fetch } or a function`
      )
    }
    map.set(hostOption(`proxyApps key ${JSON.stringify(host)}`, host), app as App | null)
  }
  return map
}

function caOption(ca: unknown): CaOptions | CertificateAuthority {
  if (ca === undefined) {
    return {}
  }
  if (ca instanceof CertificateAuthority) {
    return ca
  }
  if (typeof ca !== 'object' || ca === null || Array.isArray(ca)) {
    throw new OptionsError(`ca must be CA options or a CertificateAuthority, got ${describe(ca)}`)
  }
  // Checked now, so that a bad CA option fails at createProxy rather than at the first CONNECT.
  resolveCaOptions(ca)
  return ca
}

function websocketOption(websocket: ProxyOptions['websocket']): WebSocketServerLike | undefined {
  if (websocket === undefined) {
    return undefined
  }
  // Checked as what a JavaScript caller may pass, not as what the type promises.
  const server = (websocket as { server?: { handleUpgrade?: unknown; options?: unknown } } | null)
    ?.server
  const serverOptions = server?.options as { noServer?: unknown } | undefined
  if (typeof server?.handleUpgrade !== 'function' || serverOptions?.noServer !== true) {
    throw new OptionsError(
      'websocket.server must be a ws WebSocketServer made with { noServer: true }: the proxy hands it the upgrades'
    )
  }
  return websocket.server
}

function positive(name: 'handshakeTimeoutMs' | 'admissionTimeoutMs', value: unknown): number {
  const result = value ?? DEFAULTS[name]
  if (typeof result !== 'number' || !Number.isFinite(result) || result <= 0) {
    throw new OptionsError(
      `${name} must be a positive number of milliseconds, got ${describe(value)}`
    )
  }
  return result
}

/**
 * Clients close connections whenever they like (a browser leaving a page resets its tunnels):
 * that is no problem of the proxy's, so it is not reported.
 */
const CLIENT_LEFT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

/** Whether `error` only says that a client went away, which `onError` is not told of. */
export function isClientLeft(error: Error): boolean {
  return CLIENT_LEFT.has((error as NodeJS.ErrnoException).code ?? '')
}

/** The user's onError, told only of real problems, and unable to take the proxy down. */
function safeOnError(
  onError: (error: Error, context: ErrorContext) => void
): NormalizedOptions['onError'] {
  return (error, context) => {
    if (isClientLeft(error)) {
      return
    }
    try {
      onError(error, context)
    } catch {
      // A failing error handler has nowhere left to report to; the proxy carries on.
    }
  }
}

function logOption(onLog: unknown): NormalizedOptions['onLog'] {
  if (onLog === undefined) {
    return undefined
  }
  if (typeof onLog !== 'function') {
    throw new OptionsError(`onLog must be a function (record) => void, got ${describe(onLog)}`)
  }
  const log = onLog as (record: LogRecord) => void
  return (record) => {
    try {
      log(record)
    } catch {
      // A failing logger must not fail the request it logs.
    }
  }
}

/** Open the CA the options describe, or take the one they carry. */
export function openCa(ca: CaOptions | CertificateAuthority): Promise<CertificateAuthority> {
  return ca instanceof CertificateAuthority ? Promise.resolve(ca) : CertificateAuthority.open(ca)
}
