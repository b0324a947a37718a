/**
 * The one place where defaults live, and the checks that turn bad options into clear errors.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { CertificateAuthority } from './ca/authority'
import type { CaOptions } from './ca/authority'
import { OptionsError } from './errors'
import { toResolver } from './resolvers'
import type { App, ErrorContext, ProxyApps, ProxyOptions, Resolver } from './types'

/** Every default of {@link ProxyOptions}. */
export const DEFAULTS = {
  prefix: '/',
  proxyHost: 'wsgiprox',
  enableWebsockets: true,
  enableCertDownload: true,
  useWildcardCerts: true,
  keepaliveMax: 50,
  handshakeTimeoutMs: 10_000,
  proxyProtocol: false,
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
  keepaliveMax: number
  handshakeTimeoutMs: number
  proxyProtocol: boolean
  onError: (error: Error, context: ErrorContext) => void
}

const ignoreError = () => {}

/** Fill in defaults and refuse what cannot work, naming the option and the fix. */
export function normalizeOptions(options: ProxyOptions = {}): NormalizedOptions {
  const proxyHost = hostOption('proxyHost', options.proxyHost ?? DEFAULTS.proxyHost)
  const downloadHost = hostOption('downloadHost', options.downloadHost ?? proxyHost)
  const keepaliveMax = options.keepaliveMax ?? DEFAULTS.keepaliveMax
  if (!Number.isInteger(keepaliveMax) || keepaliveMax < -1) {
    throw new OptionsError(
      `keepaliveMax must be an integer >= -1 (0: no limit, -1: one request per tunnel), got ${String(keepaliveMax)}`
    )
  }
  const resolver = toResolver(options.resolver, options.prefix ?? DEFAULTS.prefix)
  if (typeof resolver.resolve !== 'function') {
    throw new OptionsError(
      'resolver must be a function or an object with a resolve(url, request) method'
    )
  }
  return {
    resolver,
    proxyHost,
    downloadHost,
    proxyApps: proxyAppsOption(options.proxyApps ?? {}),
    ca: options.ca ?? {},
    enableWebsockets: options.enableWebsockets ?? DEFAULTS.enableWebsockets,
    websocketServer: websocketOption(options.websocket),
    enableCertDownload: options.enableCertDownload ?? DEFAULTS.enableCertDownload,
    useWildcardCerts: options.useWildcardCerts ?? DEFAULTS.useWildcardCerts,
    keepaliveMax,
    handshakeTimeoutMs: positive('handshakeTimeoutMs', options.handshakeTimeoutMs),
    proxyProtocol: options.proxyProtocol ?? DEFAULTS.proxyProtocol,
    onError: reportUnlessClientLeft(options.onError ?? ignoreError),
  }
}

function hostOption(name: string, value: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9.-]+$/i.test(value)) {
    throw new OptionsError(
      `${name} must be a host name such as 'wsgiprox', got ${JSON.stringify(value)}`
    )
  }
  return value.toLowerCase()
}

function proxyAppsOption(apps: ProxyApps): Map<string, App | null> {
  const map = new Map<string, App | null>()
  for (const [host, app] of Object.entries(apps)) {
    if (app !== null && typeof app !== 'function' && typeof app.fetch !== 'function') {
      throw new OptionsError(
        `proxyApps[${JSON.stringify(host)}] must be null (an alias), a Hono app, { fetch } or a function`
      )
    }
    map.set(hostOption(`proxyApps key ${JSON.stringify(host)}`, host), app)
  }
  return map
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

function positive(name: keyof typeof DEFAULTS, value: number | undefined): number {
  const result = value ?? (DEFAULTS[name] as number)
  if (!Number.isFinite(result) || result <= 0) {
    throw new OptionsError(
      `${name} must be a positive number of milliseconds, got ${String(value)}`
    )
  }
  return result
}

/**
 * Clients close connections whenever they like (a browser leaving a page resets its tunnels):
 * that is no problem of the proxy's, so it is not reported.
 */
const CLIENT_LEFT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

function reportUnlessClientLeft(
  onError: NormalizedOptions['onError']
): NormalizedOptions['onError'] {
  return (error, context) => {
    if (!CLIENT_LEFT.has((error as NodeJS.ErrnoException).code ?? '')) {
      onError(error, context)
    }
  }
}

/** Open the CA the options describe, or take the one they carry. */
export function openCa(ca: CaOptions | CertificateAuthority): Promise<CertificateAuthority> {
  return ca instanceof CertificateAuthority ? Promise.resolve(ca) : CertificateAuthority.open(ca)
}
