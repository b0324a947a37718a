/**
 * An app's streamed body is input too. A stream that fails after the response began cannot be
 * answered with a status any more: that response alone ends (its HTTP/1 connection closes, its
 * HTTP/2 stream is reset), `onError` is told with phase `app`, and nothing is printed.
 * node-server, left to itself, would print the error with `console.error` and write it into the
 * body; so the stream it reads is one that never fails.
 * @module
 */
import { describe } from '../admission/target'
import { toError } from '../errors'
import type { ErrorContext } from '../types'
import { cutShort } from './cut-short'
import { enqueueSliced, isHttp2 } from './h2-slices'
import { cachedParts } from './response-parts'

/** What ends the response: node-server's `outgoing` of either HTTP version. */
export interface Ending {
  destroy(error?: Error): unknown
  readonly req?: { readonly method?: string | undefined } | undefined
}

type Report = (error: Error, context: ErrorContext) => void

/**
 * `response` with a body stream that ends `outgoing` and reports, rather than fails. A stream
 * that fails before its first chunk, in the turn of the event loop the app answered in, rejects
 * here (the caller answers `502` with its reason: no byte of the response exists yet); one whose
 * first chunk is not there by then is not waited for.
 */
export function guardBody(
  response: Response,
  outgoing: Ending,
  report: Report
): Response | Promise<Response> {
  // node-server's own Response: read where it keeps its parts, which leaves a string or bytes
  // body on node-server's fast path (the `body` getter would turn it into a full one).
  const parts = cachedParts(response)
  if (parts) {
    if (Array.isArray(parts[2])) {
      // Name-value pairs node-server makes a Headers of when it writes, where a name Fetch
      // refuses would throw past this guard (node-server answers 500 and prints the error when
      // the app's answer was a promise). Made here, once: such a throw becomes the caller's 502.
      parts[2] = new Headers(parts[2] as [string, string][])
    }
    const [status, body, headers] = parts
    if (!(body instanceof ReadableStream)) {
      // A large one goes to HTTP/2 in slices (sliceLarge, in h2-slices.ts), after this guard.
      return response
    }
    // A new one of node-server's responses, on its fast path still (the status text, which
    // node-server does not write, stays behind).
    return unfailing(body as ReadableStream<Uint8Array>, status, outgoing, report, (stream) => {
      return new Response(stream, { status, headers: headers as HeadersInit | undefined })
    })
  }
  // A Response of the platform's own (node-server not in front, or one the app got from fetch):
  // its body getter costs nothing.
  const { body } = response
  if (body === null) {
    return response
  }
  return unfailing(body, response.status, outgoing, report, (stream) => {
    return new Response(stream, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    })
  })
}

/**
 * Statuses whose response has no content (RFC 9110 §15.3.5, §15.3.6, §15.4.5): the client never
 * gets a body the app gives them.
 */
const NO_CONTENT = new Set<unknown>([204, 205, 304])

/**
 * A response made by `respond` from a stream of `source` that never fails. Its first read is
 * made now, and the response waits for it until the event loop's next turn (`setImmediate`):
 * where the read fails by then, the promise rejects. A `HEAD`, and a status without content, get
 * an empty stream at once, and the app's is cancelled.
 */
function unfailing(
  source: ReadableStream<Uint8Array>,
  status: unknown,
  outgoing: Ending,
  report: Report,
  respond: (stream: ReadableStream<Uint8Array>) => Response
): Response | Promise<Response> {
  if (outgoing.req?.method === 'HEAD' || NO_CONTENT.has(status)) {
    // No protocol sends such a body: the app's is released now, unread. node-server would read
    // all of it for Node to drop over HTTP/1.1 (chunks ready at once, in one unbroken run of
    // microtasks that holds up every other client, for ever if the body never ends), and over
    // HTTP/2, whose stream ends with the head, wait for ever with the app's body (and what it
    // holds, a file) open.
    source.cancel().catch(() => {})
    return respond(
      new ReadableStream({
        start(controller) {
          controller.close()
        },
      })
    )
  }
  // A stream the app locked or read already throws here, for the caller's 502 with that reason.
  const reader = source.getReader()
  const first = reader.read()
  return byNextTurn(first).then(() => respond(passOn(reader, first, outgoing, report)))
}

/**
 * Settles once `first` (a body's first read) has, or at the event loop's next turn
 * (`setImmediate`), whichever is sooner; rejects where the read failed by then. Not a race with a
 * settled promise, which a stream's own start and pull win or lose by how many microtask turns
 * they take: every microtask runs before the next turn of the event loop, on any Node version,
 * so a body that fails in any number of them is told apart from one that waits (on I/O, a
 * timer). Only bodies that are streams come here.
 */
export function byNextTurn(first: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const later = setImmediate(resolve)
    first.then(
      () => {
        clearImmediate(later)
        resolve()
      },
      (error: unknown) => {
        clearImmediate(later)
        // Once settled by the turn, the read that takes `first` tells the failure.
        reject(toError(error))
      }
    )
  })
}

/** The chunks of `reader`, from its `first` read on, in a stream that never fails. */
function passOn(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Promise<ReadableStreamReadResult<Uint8Array>> | undefined,
  outgoing: Ending,
  report: Report
): ReadableStream<Uint8Array> {
  const http2 = isHttp2(outgoing)
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>
        try {
          next = await (first ?? reader.read())
          first = undefined
        } catch (error) {
          const reason = toError(error).message
          report(new Error(`The app's body failed after its response began: ${reason}`), {
            phase: 'app',
          })
          // What was sent stays sent; the client sees this response cut short, and nothing else.
          cutShort(outgoing)
          controller.close()
          return
        }
        if (next.done) {
          controller.close()
          return
        }
        const chunk: unknown = next.value
        const fault = chunkFault(chunk)
        if (fault !== undefined) {
          // Node would throw on it: the response is cut short here instead, and said why.
          report(new Error(`The app's body sent ${fault}; the response was cut short`), {
            phase: 'app',
          })
          await reader.cancel().catch(() => {})
          cutShort(outgoing)
          controller.close()
          return
        }
        if (http2) {
          enqueueSliced(controller, chunk as Uint8Array | string)
        } else {
          controller.enqueue(next.value)
        }
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    // Read only as node-server asks: the app's own stream keeps its back-pressure.
    { highWaterMark: 0 }
  )
}

/**
 * Why Node cannot write `chunk`, if it cannot: it is not bytes, or its bytes are gone (the app
 * transferred its ArrayBuffer, which leaves every view of it empty and unwritable).
 */
function chunkFault(chunk: unknown): string | undefined {
  if (typeof chunk === 'string') {
    return undefined
  }
  if (!(chunk instanceof Uint8Array)) {
    return `a chunk that is not bytes (${describe(chunk)})`
  }
  if (chunk.byteLength === 0 && isDetached(chunk.buffer)) {
    return 'a chunk whose ArrayBuffer was detached (transferred)'
  }
  return undefined
}

function isDetached(buffer: ArrayBufferLike): boolean {
  if (buffer.byteLength > 0) {
    return false
  }
  try {
    // A view on a detached buffer cannot be made; on an empty one it can.
    new Uint8Array(buffer)
    return false
  } catch {
    return true
  }
}
