/**
 * From decision to reply, once for every way in: an admitted request is served by the app of its
 * route, a challenge gets `407`, a refusal gets its status and reason, and a user callback that
 * failed gets `500`. Each way in (HTTP/1 requests, upgrades, HTTP/2 streams, the Fetch-only entry)
 * says only how it serves and how it replies.
 * @module
 */
import type { Duplex } from 'node:stream'
import type { Admission, Served, Settled } from '../admission/decision'
import { refuse } from '../admission/decision'
import { toError } from '../errors'
import { noteArrival } from '../log/watch'
import type { ErrorContext } from '../types'
import type { ReplyHeaders } from './replies'
import { challengeHeaders } from './replies'

/** How one way in serves an admitted request and answers one the proxy will not serve. */
export interface Way<Req, Out, Result = void> {
  /**
   * Told every decision before it is carried out (the access log watches the response), and
   * one no one will carry out because the client has left (`gone`).
   */
  decided?: ((req: Req, out: Out, admission: Admission, gone?: boolean) => void) | undefined
  /** Serve `req` (rewritten as `admission` says) with the app of its route. */
  serve: (req: Req, out: Out, admission: Served) => Result
  /** Answer `req` itself; `close` ends the connection after it (the body may be unread). */
  reply: (out: Out, status: number, reason: string, headers: ReplyHeaders, close: boolean) => Result
  /**
   * Whether the client has left: a decision that comes later (an async `requireAuth` or
   * `resolve`) is then carried out by no one, so the app never serves a request no one waits for.
   */
  gone?: ((req: Req, out: Out) => boolean) | undefined
}

/**
 * Whether the client of `socket` has left: the socket is destroyed, or it cannot be written any
 * more (Node's HTTP server ends its side once the client has ended its own, and aborts the
 * requests still waiting).
 */
export function clientGone(socket: Duplex): boolean {
  return socket.destroyed || !socket.writable
}

/**
 * Whether the client of an upgrade's `socket` has left, or ended its side: nothing can come of
 * a WebSocket whose client sends no more. Node's parser has let go of the socket, so nothing ends
 * it on the client's end, and nothing reads it while the upgrade waits: its end is the one the
 * stream has received, not yet emitted.
 */
export function upgradeClientGone(socket: Duplex): boolean {
  const state = (socket as Duplex & { _readableState?: { ended?: boolean } })._readableState
  return clientGone(socket) || state?.ended === true
}

/** Turn `admission` into the reply to `req`, or the request the app serves. */
export function answer<Req, Out, Result>(
  way: Way<Req, Out, Result>,
  req: Req,
  out: Out,
  admission: Admission
): Result {
  way.decided?.(req, out, admission)
  switch (admission.kind) {
    case 'passthrough':
    case 'serve':
      return way.serve(req, out, admission)
    case 'challenge':
      return way.reply(
        out,
        407,
        'Proxy authentication required',
        challengeHeaders(admission.realm),
        false
      )
    case 'refuse':
      // A request the proxy refused may have a body it will not read: close after answering.
      return way.reply(out, admission.status, admission.message, {}, true)
  }
}

/**
 * The refusal for a request whose admission itself failed (a bug, or a callback that escaped the
 * gate): answered and recorded as any other refusal.
 */
const ADMISSION_FAILED = refuse(500, 'The proxy could not admit this request')

/** The answer when admission itself failed; `onError` hears why. */
export function answerFailure<Req, Out, Result>(
  way: Way<Req, Out, Result>,
  req: Req,
  out: Out,
  error: unknown,
  onError: (error: Error, context: ErrorContext) => void
): Result {
  onError(toError(error), { phase: 'admission' })
  return answer(way, req, out, ADMISSION_FAILED)
}

/**
 * Answer `req` as `admission` says, unless its client has left: then no one carries the decision
 * out, and the access log hears of the request as unanswered.
 */
export function answerUnlessGone<Req, Out>(
  way: Way<Req, Out>,
  req: Req,
  out: Out,
  admission: Admission
): void {
  if (way.gone?.(req, out)) {
    way.decided?.(req, out, admission, true)
    return
  }
  answer(way, req, out, admission)
}

/**
 * Answer once admitted, now or when the user's callbacks have answered. What is served comes in
 * as arguments rather than in a closure: the request path makes none per request when the
 * decision is immediate.
 */
export function answerWhenAdmitted<Req, Out>(
  way: Way<Req, Out>,
  req: Req,
  out: Out,
  admission: Settled<Admission>,
  onError: (error: Error, context: ErrorContext) => void
): void {
  if (!(admission instanceof Promise)) {
    answer(way, req, out, admission)
    return
  }
  if (way.decided) {
    noteArrival(req as object)
  }
  admission.then(
    (result) => {
      answerUnlessGone(way, req, out, result)
    },
    (error: unknown) => {
      if (way.gone?.(req, out)) {
        onError(toError(error), { phase: 'admission' })
        way.decided?.(req, out, ADMISSION_FAILED, true)
        return
      }
      answerFailure(way, req, out, error, onError)
    }
  )
}
