/**
 * A replayed body made a Fetch `Response`: small ones read whole and sent with their length,
 * larger ones streamed, stopping the archive read when the client leaves.
 * @module
 */

/** Bodies up to this size are read whole and sent with a length; larger ones stream. */
const BUFFERED_BODY_BYTES = 256 * 1024

/** The response of `status` and `headers` with the body `chunks` (of `length` bytes, if known). */
export async function send(
  status: number,
  headers: Headers,
  chunks: AsyncIterable<Uint8Array>,
  length: number | undefined
): Promise<Response> {
  if (length !== undefined && length <= BUFFERED_BODY_BYTES) {
    return new Response(await collect(chunks), { status, headers })
  }
  if (length !== undefined) {
    headers.set('Content-Length', String(length))
  }
  return new Response(toStream(chunks), { status, headers })
}

/** All of `chunks`, in one buffer. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) {
    parts.push(chunk)
  }
  // A small capture's payload is one chunk, a view of its inflated record: sent as it is.
  const [only] = parts
  if (parts.length === 1 && only && only.buffer instanceof ArrayBuffer) {
    return only as Uint8Array<ArrayBuffer>
  }
  return Buffer.concat(parts)
}

/** A ReadableStream over `chunks` that stops reading the archive when the client leaves. */
function toStream(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]()
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next()
      if (next.done) {
        controller.close()
      } else {
        controller.enqueue(next.value)
      }
    },
    async cancel() {
      await iterator.return?.()
    },
  })
}
