/**
 * The answer to a WebSocket upgrade the app did not accept. @hono/node-server writes it on the
 * raw socket itself (`HTTP/1.1 ${status.toString()} …`, `Connection: close`, `Content-Length: 0`,
 * then the Response's headers, no body), past Node's writer and so past the response guard. So
 * the same checks run here, and node-server is handed a fresh Response built from checked
 * values, never the app's own: an integer status from 200 to 599, the headers without hop-by-hop
 * ones, and none Node's writer would refuse; else `502`, told to `onError` with phase `app`.
 * @module
 */
import { toError } from '../errors'
import type { ErrorContext } from '../types'
import { unsendable } from './response-guard'
import { cleanHeaders, describeStatus, headerFault, isSendableStatus } from './response-headers'
import type { HeaderBag } from './response-headers'
import { cachedParts } from './response-parts'

type Report = (error: Error, context: ErrorContext) => void

/** What node-server would read of the app's Response, and its body. */
interface Parts {
  status: unknown
  headers: unknown
  body: unknown
}

/**
 * What node-server writes for the upgrade `result` answers. `upgradeWebSocket` marks the env
 * when it accepts, and then `result` goes on as it is: `ws` answers `101` itself. Otherwise the
 * app's body is cancelled, since nothing will read it, and the answer is a checked copy of its
 * status and headers, or `502`.
 */
export function upgradeAnswer(result: Response, env: unknown, report: Report): Response {
  if (isAccepted(env)) {
    return result
  }
  let parts: Parts
  try {
    parts = partsOf(result)
  } catch (error) {
    // The platform's Response refused what the app gave node-server's (a status, a header).
    return badGateway(report, toError(error).message)
  }
  cancelBody(parts.body)
  const { status } = parts
  if (!isSendableStatus(status)) {
    return badGateway(report, `it answered the upgrade with status ${describeStatus(status)}`)
  }
  let headers: Headers
  try {
    const { headers: cleaned } = cleanHeaders(
      { shouldKeepAlive: false },
      bagOf(parts.headers),
      status,
      report
    )
    const fault = headerFault(cleaned)
    if (fault !== undefined) {
      return badGateway(report, fault)
    }
    headers = toHeaders(cleaned)
  } catch (error) {
    return badGateway(report, toError(error).message)
  }
  return new Response(null, { status, headers })
}

/** node-server's mark of an upgrade `upgradeWebSocket` accepted (its `CONNECTION_SYMBOL_KEY`). */
function isAccepted(env: unknown): boolean {
  return (
    typeof env === 'object' &&
    env !== null &&
    Object.getOwnPropertySymbols(env).some(
      (symbol) => symbol.description === 'CONNECTION_SYMBOL_KEY'
    )
  )
}

/**
 * The status, headers and body of `response`. node-server's own Response keeps what the app gave
 * it unchecked; read there, nothing is converted (its getters would make a platform Response,
 * which throws on a status it cannot hold).
 */
function partsOf(response: Response): Parts {
  const cached = cachedParts(response)
  if (cached) {
    const [status, body, headers] = cached
    return { status, headers, body }
  }
  return { status: response.status, headers: response.headers, body: response.body }
}

/** Nothing reads the body of a refused upgrade: cancel a stream, which may never end. */
function cancelBody(body: unknown): void {
  if (typeof (body as ReadableStream | null)?.cancel === 'function') {
    // A stream already read or locked refuses; there is nothing more to free then.
    void (body as ReadableStream).cancel().catch(() => {})
  }
}

/**
 * The headers the app gave as a bag for `cleanHeaders`: a plain object as it is (checked by
 * `headerFault` as Node's writer checks one), name-value pairs or a `Headers` through `Headers`.
 */
function bagOf(init: unknown): HeaderBag | undefined {
  if (init === undefined || init === null) {
    return undefined
  }
  if (typeof init === 'object' && !(init instanceof Headers) && !Array.isArray(init)) {
    return init as HeaderBag
  }
  // No prototype: a header named `__proto__` is a header like any other.
  const bag = Object.create(null) as Record<string, string[]>
  for (const [name, value] of new Headers(init as HeadersInit)) {
    ;(bag[name] ??= []).push(value)
  }
  return bag
}

function toHeaders(bag: HeaderBag | undefined): Headers {
  const headers = new Headers()
  for (const name in bag) {
    const value = bag[name]
    for (const one of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
      headers.append(name, String(one))
    }
  }
  return headers
}

function badGateway(report: Report, reason: string): Response {
  // The report every 502 of the app's makes; node-server writes a refused upgrade no body.
  unsendable(reason, report)
  return new Response(null, { status: 502 })
}
