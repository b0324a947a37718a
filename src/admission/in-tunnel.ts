/**
 * The rules for a request inside a tunnel: every host it names (Host, HTTP/2's :authority, an
 * absolute-form target) must be the tunnel's (or its admitted SNI name) at the tunnel's port,
 * and it may not open a tunnel of its own. What passes is the path it asks for.
 * @module
 */
import { quote } from './asked'
import type { AskedRequest, Refusal, TunnelIdentity } from './decision'
import { refuse } from './decision'
import type { Authority } from './target'
import { hostPort, parseAbsoluteTarget, parseAuthority } from './target'

/** The refusal of a CONNECT sent inside a tunnel. */
export const NESTED_CONNECT = refuse(405, 'CONNECT inside a tunnel is not supported')

const HOST_HEADERS = [':authority', 'host'] as const

/**
 * The origin-form path `request` (a `method` request for `target`) asks for inside `tunnel`, or
 * why it is refused: 405 for CONNECT, 400 for a host or target that is not one, 421 for a host
 * that is not the tunnel's.
 */
export function pathInTunnel(
  tunnel: TunnelIdentity,
  request: AskedRequest,
  target: string,
  method: string
): string | Refusal {
  if (method === 'CONNECT') {
    return NESTED_CONNECT
  }
  // HTTP/2 names the host in :authority, HTTP/1.1 in Host; each one sent must be the tunnel's.
  for (const name of HOST_HEADERS) {
    const value = request.headers[name]
    if (typeof value !== 'string') {
      continue
    }
    const named = parseAuthority(value, tunnel.port)
    if (!named) {
      const what = name === 'host' ? 'Host header' : ':authority'
      return refuse(400, `Invalid ${what}: ${quote(value)}`)
    }
    if (!isTunnelHost(tunnel, named)) {
      return misdirected(tunnel, named)
    }
  }
  if (target.startsWith('/')) {
    return target
  }
  // A URL that leaves its port out means the tunnel's, as a Host without one does; a port
  // written out is that port, the scheme's default included (`http://example.com:80/`).
  const absolute = parseAbsoluteTarget(target, tunnel.port)
  if (absolute instanceof Error) {
    return refuse(400, absolute.message)
  }
  if (!absolute) {
    return refuse(400, `Invalid request target in a tunnel: ${quote(target)}`)
  }
  const named = { host: absolute.host, port: absolute.port }
  if (!isTunnelHost(tunnel, named)) {
    return misdirected(tunnel, named)
  }
  return absolute.path
}

/** Whether `named` is the tunnel's host (or its admitted SNI name) at the tunnel's port. */
function isTunnelHost(tunnel: TunnelIdentity, named: Authority): boolean {
  return (named.host === tunnel.host || named.host === tunnel.sni) && named.port === tunnel.port
}

function misdirected(tunnel: TunnelIdentity, named: Authority): Refusal {
  const expected = tunnel.sni ?? tunnel.host
  // The port is named only where it is what differs.
  const [want, got] =
    named.port === tunnel.port
      ? [expected, named.host]
      : [hostPort('', expected, tunnel.port), hostPort('', named.host, named.port)]
  return refuse(421, `Misdirected request: this tunnel is for ${want}, not ${got}`)
}
