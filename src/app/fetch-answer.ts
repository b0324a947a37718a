/**
 * The app's response as the Fetch entry hands it back. The server that called `proxy.fetch`
 * (node-server's `serve()`, a runtime's own) writes it as it is given, with no response guard
 * around it: a status Node cannot send as final, a Transfer-Encoding over a body that is not
 * chunked, or a Content-Length the body does not make up would reach the client as they are, and
 * a wrong length makes the next response on the connection part of this one. So the same checks
 * run here, once, on the Response: a status outside 200-599 or a header no server can write gets
 * `502` with its reason; hop-by-hop headers are dropped; a body is held to its Content-Length
 * (cut past it, and failed, which ends the connection, when it falls short); a status without
 * content has none; a body that fails before its first chunk gets the `502` too. Each repair and refusal is told to `onError` with phase `app`.
 * @module
 */
import { toError } from '../errors'
import type { ErrorContext } from '../types'
import { byNextTurn } from './body-guard'
import { readOn } from './read-on'
import { unsendable } from './response-guard'
import type { HeaderBag } from './response-headers'
import { cleanHeaders, describeStatus, headerFault, isSendableStatus } from './response-headers'
import { cachedParts } from './response-parts'

type Report = (error: Error, context: ErrorContext) => void

/** Statuses whose response carries no content (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NO_CONTENT = new Set<unknown>([204, 205, 304])

/** `response` as a server may write it as it is, for a request of `method`. */
export function checkFetchAnswer(
  response: Response,
  method: string,
  report: Report
): Response | Promise<Response> {
  const [status, body, headers] = cachedParts(response) ?? [
    response.status,
    response.body,
    response.headers,
  ]
  if (!isSendableStatus(status)) {
    return badGateway(body, `it answered with status ${describeStatus(status)}`, report)
  }
  let bag: HeaderBag
  try {
    bag = toBag(headers)
  } catch (error) {
    return badGateway(body, toError(error).message, report)
  }
  const fault = headerFault(bag)
  if (fault !== undefined) {
    return badGateway(body, fault, report)
  }
  // As HTTP/1.1 (a keep-alive flag of its own): no HTTP/2 limits on the head.
  const owner = { req: { method }, shouldKeepAlive: true }
  const { headers: cleaned = {}, declared } = cleanHeaders(owner, bag, status, report)
  const init = { status, statusText: statusTextOf(response), headers: toPairs(cleaned) }
  if (body === null || body === undefined) {
    return new Response(null, init)
  }
  if (NO_CONTENT.has(status) || method === 'HEAD') {
    release(body)
    return new Response(null, init)
  }
  if (body instanceof ReadableStream) {
    return fromFirstRead(body as ReadableStream<unknown>, init, declared, report)
  }
  if (declared === undefined) {
    return new Response(body as BodyInit, init)
  }
  const stream = new Response(body as BodyInit).body
  return new Response(stream?.pipeThrough(heldTo(declared, report)) ?? null, init)
}

/**
 * The response of a streamed body once its first read has settled, or the event loop's next
 * turn has come (body-guard.ts): a body that failed by then has sent nothing, and gets the `502`
 * with its reason, as on every other way in.
 */
function fromFirstRead(
  body: ReadableStream<unknown>,
  init: ResponseInit,
  declared: number | undefined,
  report: Report
): Response | Promise<Response> {
  let reader: ReadableStreamDefaultReader<unknown>
  try {
    reader = body.getReader()
  } catch (error) {
    // Locked or read already by the app.
    return badGateway(undefined, toError(error).message, report)
  }
  const first = reader.read()
  const rest = readOn(reader, [], first)
  return byNextTurn(first).then(
    () =>
      new Response(
        (declared === undefined
          ? rest
          : rest.pipeThrough(heldTo(declared, report))) as ReadableStream<Uint8Array>,
        init
      ),
    (error: unknown) =>
      badGateway(
        undefined,
        `its body failed before its response began: ${toError(error).message}`,
        report
      )
  )
}

/**
 * The reason phrase the app chose (the proxy's own `405 HTTPS Proxy Not Supported` has one).
 * node-server's Response reads it from a platform Response it makes, which throws on what the
 * platform refuses (a 204 with a body): that is repaired here, and the phrase is left out.
 */
function statusTextOf(response: Response): string {
  try {
    return response.statusText
  } catch {
    return ''
  }
}

/** The app's header set, in whichever form it was given, as name and values. */
function toBag(headers: unknown): HeaderBag {
  const bag = Object.create(null) as Record<string, string[]>
  if (headers === undefined || headers === null) {
    return bag
  }
  // Headers checks every name and value as it is made, and throws on one it refuses.
  const made = headers instanceof Headers ? headers : new Headers(headers as HeadersInit)
  for (const [name, value] of made) {
    ;(bag[name] ??= []).push(value)
  }
  return bag
}

function toPairs(bag: HeaderBag): [string, string][] {
  const pairs: [string, string][] = []
  for (const name in bag) {
    const value = bag[name]
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      pairs.push([name, String(one)])
    }
  }
  return pairs
}

/**
 * The app's bytes, held to `declared`: past it, the rest is dropped and the app's body cancelled;
 * short of it, the stream fails, so the server ends the connection instead of letting the next
 * response fill the length.
 */
function heldTo(declared: number, report: Report): TransformStream<unknown, Uint8Array> {
  let sent = 0
  return new TransformStream({
    transform(chunk, controller) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      if (!(bytes instanceof Uint8Array)) {
        const fault = new Error("The app's body sent a chunk that is not bytes")
        report(fault, { phase: 'app' })
        throw fault
      }
      const room = declared - sent
      if (bytes.byteLength <= room) {
        sent += bytes.byteLength
        controller.enqueue(bytes)
        return
      }
      controller.enqueue(bytes.subarray(0, room))
      sent = declared
      report(
        new Error(
          `The app sent more than the ${String(declared)} bytes its Content-Length declared; the rest was dropped`
        ),
        { phase: 'app' }
      )
      controller.terminate()
    },
    flush() {
      if (sent < declared) {
        const short = new Error(
          `The app's body ended after ${String(sent)} of the ${String(declared)} bytes its Content-Length declared`
        )
        report(short, { phase: 'app' })
        throw short
      }
    },
  })
}

/** The `502` in place of the app's response, whose body is let go of. */
function badGateway(body: unknown, reason: string, report: Report): Response {
  release(body)
  return new Response(unsendable(reason, report), {
    status: 502,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
}

function release(body: unknown): void {
  if (body instanceof ReadableStream && !body.locked) {
    body.cancel().catch(() => {})
  }
}
