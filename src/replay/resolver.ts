/**
 * The replay's resolver: with several collections the proxy user name picks one, as pywb's
 * proxy mode once did (`http://<collection>:any@127.0.0.1:8080`, the password unchecked); with
 * one, no credentials are asked for. The proxy's own pages (the collection list, the CA page
 * and downloads, the PAC file) never ask.
 * @module
 */
import { ProxyAuthResolver } from '../admission/resolvers'

/** Options of {@link ReplayResolver}. */
export interface ReplayResolverOptions {
  /** Hosts whose requests need no collection: the proxy host, the download host. @default ['wsgiprox'] */
  proxyHosts?: Iterable<string>
}

/** Picks the collection of each proxied request. */
export class ReplayResolver extends ProxyAuthResolver {
  readonly collections: readonly string[]
  readonly #proxyHosts: ReadonlySet<string>
  /** The path prefix of the one collection, when there is only one. */
  readonly #onlyPrefix: string | undefined

  constructor(collections: readonly string[], options: ReplayResolverOptions = {}) {
    super(realm(collections))
    this.collections = collections
    this.#proxyHosts = new Set(options.proxyHosts ?? ['wsgiprox'])
    const [only] = collections
    this.#onlyPrefix =
      collections.length === 1 && only !== undefined ? `/${encodeURIComponent(only)}/` : undefined
  }

  override requireAuth(request: Request): string | undefined {
    if (this.collections.length <= 1 || this.#proxyHosts.has(new URL(request.url).hostname)) {
      return undefined
    }
    return super.requireAuth(request)
  }

  override resolve(url: string, request: Request): string {
    const prefix = this.#onlyPrefix
    return prefix === undefined ? super.resolve(url, request) : prefix + url
  }
}

/** The login prompt's realm: which names to type. */
function realm(collections: readonly string[]): string {
  const names = collections.join(', ')
  return `Collection name as user name: ${names.length > 120 ? names.slice(0, 117) + '...' : names}`
}
