/**
 * An app's body goes out over HTTP/2 in slices. The streams of a session share its memory bound
 * (`maxSessionMemory`), which counts every byte written to a stream and not yet sent, and while
 * it is passed Node refuses each new stream with ENHANCE_YOUR_CALM. A body written whole (an
 * image of a few megabytes as one buffer, or one large chunk of a stream) counts whole at once:
 * a page loading a few such images together saw its other requests refused (Chromium:
 * `ERR_HTTP2_PROTOCOL_ERROR`). Sliced, a body is written a slice at a time, the next once the
 * last has gone (node-server waits for `drain` between chunks), so a stream holds about one
 * slice of the session's memory, as a well-behaved HTTP/2 server does.
 * @module
 */
import { cachedParts } from './response-parts'

/** The largest write to an HTTP/2 stream: 100 streams at once hold 6.4 MB, under 10 MB. */
export const SLICE_BYTES = 64 * 1024

/**
 * Whether `outgoing` is an HTTP/2 response: an HTTP/1 `ServerResponse` has its own
 * `shouldKeepAlive`, an `Http2ServerResponse` none. One property read, as the response guard
 * tells them apart (an `in` test would walk the HTTP/1 response's prototypes on every request).
 */
export function isHttp2(outgoing: object): boolean {
  return (outgoing as { shouldKeepAlive?: boolean }).shouldKeepAlive === undefined
}

/**
 * `response`, guarded already, with a body node-server would write whole made a stream of slices
 * when it is larger than one; a HEAD's, a small body and a stream (sliced as it is read, by
 * `enqueueSliced`) go as they are. Only HTTP/2 responses come here: the HTTP/1 path does not
 * even test for it.
 */
export function sliceLarge(
  response: Response,
  outgoing: { readonly req?: { readonly method?: string | undefined } | undefined }
): Response {
  const parts = outgoing.req?.method === 'HEAD' ? undefined : cachedParts(response)
  if (!parts || parts[1] instanceof ReadableStream) {
    return response
  }
  const sliced = slicedParts(parts[1], parts[2])
  return sliced
    ? new Response(sliced.stream, { status: parts[0], headers: sliced.headers })
    : response
}

/** Enqueue `chunk` into `controller`, in slices of at most {@link SLICE_BYTES}. */
export function enqueueSliced(
  controller: ReadableStreamDefaultController<Uint8Array>,
  chunk: Uint8Array | string
): void {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
  if (bytes.byteLength <= SLICE_BYTES) {
    controller.enqueue(bytes)
    return
  }
  for (let start = 0; start < bytes.byteLength; start += SLICE_BYTES) {
    controller.enqueue(bytes.subarray(start, start + SLICE_BYTES))
  }
}

/**
 * A body node-server would write whole, as a stream of slices with its length stated, when it is
 * larger than one slice: the parts of the response to make in its place, or `undefined` to keep
 * it as it is. The app's headers are copied, never changed: an app may share them.
 */
export function slicedParts(
  body: unknown,
  headers: unknown
): { stream: ReadableStream<Uint8Array>; headers: HeadersInit } | undefined {
  if (body instanceof Blob) {
    return body.size <= SLICE_BYTES
      ? undefined
      : { stream: blobSlices(body), headers: withLength(headers, body.size) }
  }
  const bytes =
    typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : undefined
  if (bytes === undefined || bytes.byteLength <= SLICE_BYTES) {
    return undefined
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      enqueueSliced(controller, bytes)
      controller.close()
    },
  })
  return { stream, headers: withLength(headers, bytes.byteLength) }
}

/** The bytes of `blob`, a slice read at a time as the stream is asked (node-server reads it whole). */
function blobSlices(blob: Blob): ReadableStream<Uint8Array> {
  let start = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (start >= blob.size) {
          controller.close()
          return
        }
        const end = start + SLICE_BYTES
        controller.enqueue(new Uint8Array(await blob.slice(start, end).arrayBuffer()))
        start = end
      },
    },
    { highWaterMark: 0 }
  )
}

/**
 * A copy of `headers` that states `length` unless they state one. A plain object stays one, and
 * none becomes a `Headers`: node-server adds its default content type to those, as it does to a
 * body it writes whole, and to no plain object.
 */
function withLength(headers: unknown, length: number): HeadersInit {
  if (headers instanceof Headers || headers === undefined || headers === null) {
    const copy = new Headers(headers ?? undefined)
    if (!copy.has('content-length')) {
      copy.set('content-length', String(length))
    }
    return copy
  }
  const record = headers as Record<string, string>
  const stated = Object.keys(record).some((name) => name.toLowerCase() === 'content-length')
  return stated ? record : { ...record, 'content-length': String(length) }
}
