/**
 * The rest of a body whose head was read already, as a stream of its own.
 * @module
 */

/**
 * A stream of what `reader` gives: the chunks `held` first, then the result of `first` (a read
 * made already) when there is one, then the reader's own, read only as asked. A failure of the
 * reader fails the stream; its cancel cancels the reader.
 */
export function readOn(
  reader: ReadableStreamDefaultReader<unknown>,
  held: unknown[] = [],
  first?: Promise<ReadableStreamReadResult<unknown>>
): ReadableStream<unknown> {
  let next = first
  return new ReadableStream<unknown>(
    {
      start(controller) {
        for (const chunk of held) {
          controller.enqueue(chunk)
        }
        held.length = 0
      },
      async pull(controller) {
        const { done, value } = await (next ?? reader.read())
        next = undefined
        if (done) {
          controller.close()
        } else {
          controller.enqueue(value)
        }
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 }
  )
}
