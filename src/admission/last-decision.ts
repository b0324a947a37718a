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
  target: string
  method: string
  host: unknown
  authority: unknown
  sni: string | undefined
  decision: Admission
}

/** The last decision on each connection; a connection that goes is forgotten with it. */
export class LastDecisions {
  readonly #last = new WeakMap<object, Memo>()

  /** The decision on `connection`'s last request, if `request` asks exactly what it asked. */
  get(
    connection: object,
    request: AskedRequest,
    target: string,
    method: string,
    sni: string | undefined
  ): Admission | undefined {
    const memo = this.#last.get(connection)
    if (memo === undefined) {
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
    this.#last.set(connection, { target, method, host, authority, sni, decision })
  }
}
