/**
 * The check of each option: what a JavaScript caller may pass, not what the type promises, is
 * refused with an `OptionsError` that names the option and the fix.
 * @module
 */
import { FixedResolver } from './admission/resolvers'
import { describe, validHost } from './admission/target'
import { CertificateAuthority } from './ca/authority'
import type { CaOptions } from './ca/authority'
import { resolveCaOptions } from './ca/options'
import { DEFAULTS } from './defaults'
import { OptionsError } from './errors'
import type { App, PacOptions, Resolver } from './types'

export function hostOption(name: string, value: unknown): string {
  const host = typeof value === 'string' ? validHost(value) : undefined
  if (host === undefined) {
    throw new OptionsError(
      `${name} must be a host name such as 'wsgiprox', got ${describe(value)}${hostHint(value)}`
    )
  }
  return host
}

/**
 * What a string that is not a host name may have meant: the host of a URL or of `host:port`
 * (a proxy app answers every port and both schemes of its host); a wildcard is no host at all.
 */
function hostHint(value: unknown): string {
  if (typeof value !== 'string') {
    return ''
  }
  if (value.includes('*')) {
    return '; a wildcard names no one host: answer its subdomains in the main app, by Host'
  }
  const url = URL.parse(/^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`)
  const host = url ? validHost(url.hostname) : undefined
  return host === undefined ? '' : `; did you mean '${host}'?`
}

export function booleanOption(
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

/**
 * The most `*` a PAC pattern may hold (runs of `*` count once). Browsers match with a regular
 * expression made from the pattern (Firefox's `shExpMatch` turns each `*` into `.*`), whose time
 * on a host that does not match grows as the host's length to the power of the stars: a page
 * can name such a host, so a pattern of many stars would stall the browser's proxy choice.
 */
const PAC_STARS_MAX = 3

export function pacOption(pac: unknown): PacOptions | undefined {
  const chosen = pac ?? DEFAULTS.pac
  if (chosen === true) {
    return { hosts: undefined }
  }
  if (chosen === false) {
    return undefined
  }
  const given = typeof pac === 'object' && pac !== null ? (pac as Record<string, unknown>) : {}
  const hosts: unknown[] | undefined = Array.isArray(given.hosts) ? given.hosts : undefined
  const extra = Object.keys(given).filter((key) => key !== 'hosts')
  const patterns = hosts?.map((host) =>
    // `**` means what `*` means.
    typeof host === 'string' ? host.replace(/\*+/g, '*') : host
  )
  if (
    extra.length > 0 ||
    !patterns?.every(
      (host): host is string =>
        typeof host === 'string' &&
        PAC_PATTERN.test(host) &&
        host.split('*').length - 1 <= PAC_STARS_MAX
    )
  ) {
    throw new OptionsError(
      `pac must be true, false or { hosts: ['*.example.com', 'example.org'] } (shExpMatch patterns of host characters, * and ?, at most ${PAC_STARS_MAX} *), got ${describe(pac)}`
    )
  }
  return { hosts: patterns.map((host) => host.toLowerCase()) }
}

export function resolverOption(resolver: unknown, prefix: unknown): Resolver {
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

/** Whether `value` can answer requests: a Hono app, any `{ fetch }` object or a function. */
export function isApp(value: unknown): value is App {
  return (
    (typeof value === 'function' && !isClass(value)) ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { fetch?: unknown }).fetch === 'function')
  )
}

/**
 * `value` as the app `name` must be. Checked where it is given: an app that cannot answer would
 * otherwise turn every request into a 500 far from the mistake.
 */
export function appOption(name: string, value: unknown): App {
  if (!isApp(value)) {
    const got = isClass(value)
      ? `the class ${value.name}: pass an instance (new ${value.name}())`
      : describe(value)
    throw new OptionsError(
      `${name} must be a Hono app, { fetch } or a function (request) => Response, got ${got}`
    )
  }
  return value
}

/**
 * Whether `value` is a class, which is a function but throws when called without `new`: given as
 * the app (`startProxy(Hono)`), every request would be a 500 saying so.
 */
function isClass(value: unknown): value is abstract new () => unknown {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value))
}

export function proxyAppsOption(apps: unknown): Map<string, App | null> {
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
    if (app !== null && !isApp(app)) {
      throw new OptionsError(
        `proxyApps[${JSON.stringify(host)}] must be null (an alias), a Hono app, { fetch } or a function`
      )
    }
    map.set(hostOption(`proxyApps key ${JSON.stringify(host)}`, host), app)
  }
  return map
}

export function caOption(ca: unknown): CaOptions | CertificateAuthority {
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

export function positive(
  name: 'handshakeTimeoutMs' | 'admissionTimeoutMs' | 'http2IdleTimeoutMs',
  value: unknown
): number {
  const result = value ?? DEFAULTS[name]
  if (typeof result !== 'number' || !Number.isFinite(result) || result <= 0) {
    throw new OptionsError(
      `${name} must be a positive number of milliseconds, got ${describe(value)}`
    )
  }
  return result
}
