/**
 * Each connection's last decision. With neither `requireAuth` nor a resolver of the user's, the
 * decision on a request depends on the request alone: its target, method and host headers, and
 * inside a tunnel the tunnel and its SNI name. A client on a kept-alive connection mostly asks
 * the same again, so the last decision is kept per connection (a tunnel, or a direct
 * connection's socket) and given again to a request that asks exactly what its request asked.
 * @module
 */
import type { Admission, AskedRequest } from './decision'

/** What a decision was made from, and the decision. */
interface Memo {
  /** The gate's keeper that made it: another gate (another proxy) never reads it. */
  owner: LastDecisions
  target: string
  method: string
  host: unknown
  authority: unknown
  sni: string | undefined
  decision: Admission
}

/**
 * Where a connection keeps its last decision: a property of the connection object (a tunnel's
 * identity, or a direct connection's socket), read on every request, costs less than a lookup
 * in a WeakMap; it goes with the connection.
 */
const LAST = Symbol('wsgiprox.lastDecision')

/** A connection, with the last decision made on it. */
type Connection = object & { [LAST]?: Memo }

/** The last decision on each connection; a connection that goes is forgotten with it. */
export class LastDecisions {
  /** The decision on `connection`'s last request, if `request` asks exactly what it asked. */
  get(
    connection: object,
    request: AskedRequest,
    target: string,
    method: string,
    sni: string | undefined
  ): Admission | undefined {
    const memo = (connection as Connection)[LAST]
    if (memo?.owner !== this) {
      return undefined
    }
    const { headers } = request
    return memo.target === target &&
      memo.method === method &&
      memo.host === headers.host &&
      memo.authority === headers[':authority'] &&
      memo.sni === sni
      ? memo.decision
      : undefined
  }

  /** Keep `decision` as `connection`'s last, with what it was made from. */
  set(
    connection: object,
    request: AskedRequest,
    target: string,
    method: string,
    sni: string | undefined,
    decision: Admission
  ): void {
    const { host, ':authority': authority } = request.headers
    const memo = { owner: this, target, method, host, authority, sni, decision }
    if (LAST in connection) {
      ;(connection as Connection)[LAST] = memo
      return
    }
    // Not enumerable: a copy of a tunnel's identity (`{ ...identity, scheme }`) starts with none.
    Object.defineProperty(connection, LAST, { value: memo, writable: true, configurable: true })
  }
}
