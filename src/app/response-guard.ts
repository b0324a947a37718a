/**
 * The app's response is input. Before Node writes it, its status and headers are checked and
 * repaired, and its body is held to the length it declared, so that no app can end the process
 * (Node throws on a status it cannot send, and HTTP/2 on connection-specific headers) or make one
 * response bleed into the next on a shared connection (a body longer than its Content-Length).
 *
 * What has a clear meaning is repaired: hop-by-hop headers are dropped (the proxy owns the
 * framing to the client), an unreadable Content-Length is dropped, bytes past a declared length
 * are cut, and a body that ends short of it closes the connection. What has none (a status
 * outside 200-599, a header Node refuses) gets `502` with a one-line reason. Every repair and
 * refusal is told to `onError` with phase `app`.
 * @module
 */
import type { ErrorContext } from '../types'
import { cutShort, markCut } from './cut-short'
import {
  cleanHeaders,
  describeStatus,
  HTTP2_HEADER_BLOCK_MAX,
  isSendableStatus,
} from './response-headers'
import type { HeaderBag } from './response-headers'

/** A Node response of either HTTP version, as far as the guard touches it. */
export interface GuardedResponse {
  req?: { method?: string | undefined } | undefined
  shouldKeepAlive?: boolean
  /** HTTP/1: whether the connection closes once this response has finished. */
  _last?: boolean
  statusCode: number
  writeHead(status: number, second?: unknown, third?: unknown): unknown
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean
  end(chunk?: unknown, encoding?: unknown, callback?: unknown): unknown
  destroy(error?: Error): unknown
  getHeaderNames(): string[]
  removeHeader(name: string): void
}

type Report = (error: Error, context: ErrorContext) => void

/** The body of one guarded response: what it declared, what has gone out, and who to tell. */
interface BodyState {
  declared: number | undefined
  sent: number
  /** Whether the response is complete and what the app still writes is dropped. */
  done: boolean
  /**
   * Whether the original `end` runs: HTTP/2's calls `this.write` with the last chunk, which was
   * counted already.
   */
  ending: boolean
  report: Report
  /** The response's prototype: Node's own `write` and `end`, which the guard's call on. */
  node: GuardedResponse
}

/**
 * Where a guarded response keeps its body's state: a property of its own, which costs less per
 * response than an entry in a WeakMap (and the GC's work on it).
 */
const BODY = Symbol('wsgiprox.body')

/** A guarded response, with the state of its body once its head went out. */
type WithBody = GuardedResponse & { [BODY]?: BodyState }

/**
 * A guard for the responses of one app server: `guard(res)` makes `res` check what the app
 * writes before Node sends it. With `count`, the body bytes sent are counted for `bodyBytesOf`
 * even when no length was declared. The guard's `writeHead` is made once, here: guarding a
 * response costs one property.
 */
export function createResponseGuard(
  report: Report,
  count: boolean
): (res: GuardedResponse) => void {
  function writeHead(this: GuardedResponse, status: number, second?: unknown, third?: unknown) {
    return writeGuarded(this, report, count, status, second, third)
  }
  return (res) => {
    res.writeHead = writeHead
  }
}

/** The body bytes a guarded response sent, where they were counted. */
export function bodyBytesOf(res: object): number | undefined {
  return (res as WithBody)[BODY]?.sent
}

function writeGuarded(
  res: GuardedResponse,
  report: Report,
  count: boolean,
  status: number,
  second: unknown,
  third: unknown
) {
  const original = prototypeOf(res)
  if (!isSendableStatus(status)) {
    return badGateway(res, report, `it answered with status ${describeStatus(status)}`)
  }
  const message = typeof second === 'string' ? second : undefined
  const given = (message === undefined ? second : third) as HeaderBag | string[] | undefined
  const { headers, declared, blockBound, refused } = cleanHeaders(res, given, status, report)
  if (refused !== undefined) {
    return badGateway(res, report, refused)
  }
  if (blockBound !== undefined) {
    return badGateway(
      res,
      report,
      `its headers take ${String(blockBound)} bytes, more than the ${String(HTTP2_HEADER_BLOCK_MAX)} HTTP/2 sends in one block`
    )
  }
  if (declared !== undefined || count) {
    installBodyGuard(res, original, declared, report)
  }
  try {
    return message === undefined
      ? original.writeHead.call(res, status, headers)
      : original.writeHead.call(res, status, message, headers)
  } catch (error) {
    // Node refused a header (a control character in a value, a bad name): nothing was sent yet.
    for (const name of res.getHeaderNames()) {
      res.removeHeader(name)
    }
    return badGateway(res, report, (error as Error).message)
  }
}

function installBodyGuard(
  res: WithBody,
  node: GuardedResponse,
  declared: number | undefined,
  report: Report
) {
  res[BODY] = { declared, sent: 0, done: false, ending: false, report, node }
  res.write = guardedWrite
  res.end = guardedEnd
}

// Node's `write(chunk, encoding, callback)` and `end(chunk, encoding, callback)` take their
// arguments by position and tell a callback given early by its type: passed on as they came,
// with no rest array and no spread call on every response.

function guardedWrite(
  this: WithBody,
  chunk: unknown,
  encoding?: unknown,
  callback?: unknown
): boolean {
  const state = this[BODY]
  if (state?.ending) {
    return state.node.write.call(this, chunk, encoding, callback)
  }
  if (!state) {
    return true
  }
  if (state.done) {
    // The response is complete: `false` stops a writer that keeps going (node-server's, until
    // the response closes and it cancels the app's body). A body whose chunks are ready at once
    // would otherwise be read to its end in one run of microtasks that holds up every client.
    return false
  }
  const part = admit(this, state, chunk)
  if (part === chunk) {
    return state.node.write.call(this, chunk, encoding, callback)
  }
  finish(this, state, part)
  return false
}

function guardedEnd(this: WithBody, chunk?: unknown, encoding?: unknown, callback?: unknown) {
  const state = this[BODY]
  if (!state || state.done) {
    return this
  }
  const body = typeof chunk === 'function' ? undefined : chunk
  const part = body === undefined || body === null ? body : admit(this, state, body)
  if (part !== body) {
    return finish(this, state, part)
  }
  if (state.declared !== undefined && state.sent < state.declared) {
    state.report(
      new Error(
        `The app's body ended after ${String(state.sent)} of the ${String(state.declared)} bytes its Content-Length declared; the connection was closed`
      ),
      { phase: 'app' }
    )
    if (this.shouldKeepAlive === undefined) {
      // HTTP/2: the stream is reset, the session goes on.
      cutShort(this)
      return this
    }
    // HTTP/1: what was sent reaches the client, then the connection closes; nothing follows it.
    markCut(this)
    // Node chose keep-alive when it made the head; `_last` is what it reads once the response
    // has finished, to close the connection instead of writing the next response on it.
    this.shouldKeepAlive = false
    this._last = true
  }
  return finish(this, state, chunk, encoding, callback)
}

/**
 * End the response with Node's own `end`; HTTP/2's calls `this.write` with the last chunk, which
 * is let through as it is, counted already.
 */
function finish(
  res: GuardedResponse,
  state: BodyState,
  chunk?: unknown,
  encoding?: unknown,
  callback?: unknown
): unknown {
  state.done = true
  state.ending = true
  try {
    return state.node.end.call(res, chunk, encoding, callback)
  } finally {
    state.ending = false
  }
}

/** Count `chunk`; past the declared length, the part that fits (the caller ends with it). */
function admit(res: GuardedResponse, state: BodyState, chunk: unknown): unknown {
  if (res.req?.method === 'HEAD') {
    return chunk
  }
  const size =
    typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength
  const room = state.declared === undefined ? size : state.declared - state.sent
  if (size <= room) {
    state.sent += size
    return chunk
  }
  state.sent += room
  state.report(
    new Error(
      res.statusCode === 205
        ? "The app's 205 (Reset Content) had a body; no 205 carries one, so it was dropped"
        : `The app sent more than the ${String(state.declared)} bytes its Content-Length declared; the rest was dropped`
    ),
    { phase: 'app' }
  )
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array)
  return bytes.subarray(0, room)
}

/** Answer `502` in place of an app response that cannot be sent, and drop what the app writes. */
export function badGateway(res: GuardedResponse, report: Report, reason: string) {
  const body = unsendable(reason, report)
  const sent = res.req?.method === 'HEAD' ? 0 : Buffer.byteLength(body)
  const node = prototypeOf(res)
  const state: BodyState = { declared: undefined, sent, done: false, ending: false, report, node }
  ;(res as WithBody)[BODY] = state
  res.write = guardedWrite
  res.end = guardedEnd
  const head = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  }
  if (res.shouldKeepAlive === undefined) {
    // HTTP/2 has no reason phrase, and Node warns when given one.
    node.writeHead.call(res, 502, head)
  } else {
    // Named: a writeHead Node refused has set the reason phrase of the app's status already.
    node.writeHead.call(res, 502, 'Bad Gateway', head)
  }
  finish(res, state, body)
  return res
}

/** Tell `report` that the app's response cannot be sent, and return the body of its 502. */
export function unsendable(reason: string, report: Report): string {
  report(new Error(`The app's response could not be sent: ${oneLine(reason)}`), { phase: 'app' })
  return `Bad Gateway: the app's response could not be sent (${oneLine(reason)})\n`
}

/**
 * Node's response class's prototype, where its own methods are: read through the constructor,
 * two property loads. `Object.getPrototypeOf` on a response whose shape V8 does not know at that
 * point went to the runtime, over a hundred instructions on every response.
 */
function prototypeOf(res: GuardedResponse): GuardedResponse {
  return (res.constructor as { prototype: GuardedResponse }).prototype
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 200)
}
