/**
 * Resolvers turn the full URL of a proxied request into the path the app sees.
 * @module
 */
import { OptionsError } from '../errors'
import type { Resolver } from '../types'
import { hasDotSegment } from './target'

/** The default prefix of {@link FixedResolver}. */
export const DEFAULT_PREFIX = '/'

/** The default realm of {@link ProxyAuthResolver}. */
export const DEFAULT_AUTH_MESSAGE = 'Please enter prefix path'

/**
 * Puts a fixed prefix before the full URL.
 * @example
 * new FixedResolver('/prefix/').resolve('https://example.com/a?b') // '/prefix/https://example.com/a?b'
 */
export class FixedResolver implements Resolver {
  readonly prefix: string

  /**
   * @param prefix put before every full URL; a missing leading or trailing '/' is added (so
   * `'archive'` is `'/archive/'`, never `/archivehttp://...`), as the `prefix` option and the
   * CLI's `--prefix` do @default '/'
   * @throws OptionsError for a prefix that URL parsing would change or cut short: a '.' or '..'
   * segment, a backslash, '?', '#', a space or a control character.
   */
  constructor(prefix: string = DEFAULT_PREFIX) {
    if (typeof prefix !== 'string') {
      throw new OptionsError(
        `prefix must be a path string such as '/prefix/', got ${typeof prefix}`
      )
    }
    const leading = prefix.startsWith('/') ? prefix : `/${prefix}`
    const path = leading.endsWith('/') ? leading : `${leading}/`
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    if (/[\x00-\x20\x7f?#\\]/.test(path) || hasDotSegment(path)) {
      throw new OptionsError(
        `prefix ${JSON.stringify(prefix)} must be a plain path: no '.' or '..' segment, backslash, '?', '#', space or control character`
      )
    }
    this.prefix = path
  }

  resolve(url: string): string {
    return this.prefix + url
  }
}

/**
 * Asks the client for proxy credentials (HTTP Basic) and uses the user name as the prefix:
 * the app sees `/<username>/<url>`. A request without credentials gets `407` with
 * `Proxy-Authenticate: Basic realm="<message>"`, before any tunnel is set up.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-proxy-authenticate
 */
export class ProxyAuthResolver implements Resolver {
  readonly message: string

  /** @param message the realm shown by the client's login prompt @default 'Please enter prefix path' */
  constructor(message: string = DEFAULT_AUTH_MESSAGE) {
    if (typeof message !== 'string') {
      throw new OptionsError(
        `the ProxyAuthResolver message must be a string, got ${typeof message}`
      )
    }
    this.message = message
  }

  /** Asks again for a missing user name, or one that could not be a path segment (`..`). */
  requireAuth(request: Request): string | undefined {
    const user = proxyUser(request)
    return user === undefined || hasDotSegment(`/${user}`) ? this.message : undefined
  }

  resolve(url: string, request: Request): string {
    const user = proxyUser(request) ?? ''
    // Keep '/' and ':' so a user name such as 'coll/2020' can address nested paths, but never
    // let it end the path early.
    return `/${encodeURI(user).replace(/[?#]/g, encodeURIComponent)}/${url}`
  }
}

/** The user name of a `Proxy-Authorization: Basic` header, or `undefined` when absent or bad. */
export function proxyUser(request: Request): string | undefined {
  const header = request.headers.get('proxy-authorization')
  const match = header && /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!match?.[1]) {
    return undefined
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const user = colon === -1 ? decoded : decoded.slice(0, colon)
  return user === '' ? undefined : user
}
