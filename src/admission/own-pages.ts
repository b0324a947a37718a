/**
 * The proxy's own pages, as admission sees them: the PAC file, fetched directly on the proxy's
 * address by browsers, and the public pages (CA downloads, PAC file) that need no login, since a
 * browser fetches them before it has one.
 * @module
 */
import { quote } from './asked'
import type { Admission, AskedRequest } from './decision'
import { refuse } from './decision'
import type { Authority } from './target'
import { addressHost, parseAuthority, validHost } from './target'

/** The path of the PAC file, on the proxy host and on the proxy's own address. */
export const PAC_PATH = '/proxy.pac'

/**
 * The download app's own paths. Only these are public: other paths on the download host fall
 * through to the main app, which the resolver's login still guards.
 */
const DOWNLOAD_PATHS: ReadonlySet<string> = new Set([
  '/download',
  '/download/',
  '/download/pem',
  '/download/p12',
  '/download/cer',
  '/download/check',
])

/** Where the public pages are. */
export interface PublicPages {
  proxyHost: string
  /** `undefined` when the downloads are off. */
  downloadHost: string | undefined
  pac: boolean
}

/**
 * Whether a request is for a public page: GET or HEAD of a download, or of the PAC file. The PAC
 * file names the address the client connected to, so a request without a socket (the Fetch-only
 * entry) gets none, and its `/proxy.pac` goes on to the apps, behind the login as any path.
 */
export function isPublicPage(
  pages: PublicPages,
  host: string,
  path: string,
  method: string,
  hasSocket: boolean
): boolean {
  if (method !== 'GET' && method !== 'HEAD') {
    return false
  }
  const end = path.indexOf('?')
  const pathname = end === -1 ? path : path.slice(0, end)
  if (host === pages.downloadHost && DOWNLOAD_PATHS.has(pathname)) {
    return true
  }
  return hasSocket && pages.pac && host === pages.proxyHost && pathname === PAC_PATH
}

/**
 * The decision on a direct request (origin form): the main app serves it as it is, but for a
 * GET of the PAC file on the proxy's own address, which browsers fetch directly rather than
 * through the proxy, and which is a request for the proxy host. A Host header that is not a
 * host is refused.
 */
export function admitOriginForm(
  request: AskedRequest,
  target: string,
  method: string,
  pages: PublicPages
): Admission {
  const host = request.headers.host
  const named = host === undefined ? undefined : parseAuthority(host, 80)
  if (host !== undefined && !named) {
    return refuse(400, `Invalid Host header: ${quote(host)}`)
  }
  // No Host (HTTP/1.0) names the address the connection reached, as its passthrough says.
  const own = named ? isOwnAddress(named, request.socket) : Boolean(request.socket)
  if (pages.pac && own && isPacRequest(target, method)) {
    const { proxyHost } = pages
    const fullUrl = `http://${proxyHost}${target}`
    return {
      kind: 'serve',
      path: target,
      host: proxyHost,
      scheme: 'http',
      proxyHost,
      route: proxyHost,
      fullUrl,
    }
  }
  return PASSTHROUGH
}

const PASSTHROUGH: Admission = { kind: 'passthrough' }

/** Whether `named` is the address the connection reached: its local address, or localhost. */
export function isOwnAddress(named: Authority, socket: AskedRequest['socket']): boolean {
  const address = socket?.localAddress
  if (address === undefined || named.port !== socket?.localPort) {
    return false
  }
  return named.host === 'localhost' || named.host === validHost(addressHost(address))
}

/** Whether a direct request (origin form) is a GET or HEAD of the PAC file. */
export function isPacRequest(target: string, method: string): boolean {
  return (
    (method === 'GET' || method === 'HEAD') &&
    (target === PAC_PATH || target.startsWith(`${PAC_PATH}?`))
  )
}
