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
import { cutShort } from './response-guard'
import { cachedParts } from './response-parts'

/** What ends the response: node-server's `outgoing` of either HTTP version. */
export interface Ending {
  destroy(error?: Error): unknown
}

type Report = (error: Error, context: ErrorContext) => void

/** `response` with a body stream that ends `outgoing` and reports, rather than fails. */
export function guardBody(response: Response, outgoing: Ending, report: Report): Response {
  // node-server's own Response: read where it keeps its parts, which leaves a string or bytes
  // body on node-server's fast path (the `body` getter would turn it into a full one).
  const parts = cachedParts(response)
  if (parts) {
    const [status, body, headers] = parts
    if (!(body instanceof ReadableStream)) {
      return response
    }
    // A new one of node-server's responses, on its fast path still (the status text, which
    // node-server does not write, stays behind).
    return new Response(unfailing(body as ReadableStream<Uint8Array>, outgoing, report), {
      status,
      headers: headers as HeadersInit | undefined,
    })
  }
  // A Response of the platform's own (node-server not in front, or one the app got from fetch):
  // its body getter costs nothing.
  const { body } = response
  if (body === null) {
    return response
  }
  return new Response(unfailing(body, outgoing, report), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
}

function unfailing(
  source: ReadableStream<Uint8Array>,
  outgoing: Ending,
  report: Report
): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>
        try {
          next = await reader.read()
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
        if (!(chunk instanceof Uint8Array) && typeof chunk !== 'string') {
          // Node would throw on it: the response is cut short here instead, and said why.
          report(
            new Error(
              `The app's body sent a chunk that is not bytes (${describe(chunk)}); the response was cut short`
            ),
            { phase: 'app' }
          )
          await reader.cancel().catch(() => {})
          cutShort(outgoing)
          controller.close()
          return
        }
        controller.enqueue(next.value)
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    // Read only as node-server asks: the app's own stream keeps its back-pressure.
    { highWaterMark: 0 }
  )
}
