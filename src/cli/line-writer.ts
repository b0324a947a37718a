/**
 * Lines written with back-pressure: when a stream is not read (a pager that stopped, a log
 * shipper that is down), lines beyond a bounded queue are dropped and counted instead of held in
 * memory, and the count is told once the stream drains and when the proxy stops. The access
 * lines on stdout and the error lines on stderr each go through one.
 * @module
 */

/** The most bytes of lines waiting for a stream before new lines are dropped. */
export const LOG_QUEUE_MAX_BYTES = 1024 * 1024

/** Writes lines to a stream, dropping (and counting) what would queue past a bound. */
export interface LineWriter {
  /** Write `text`, one or more whole lines, or drop it when the stream's queue is full. */
  write(text: string): void
  /** Tell how many lines were dropped since the last report, if any. */
  report(): void
}

/** What a {@link LineWriter} calls its lines and its stream in the drop count. */
export interface LineWriterOptions {
  /** The lines, singular: `access line`. */
  what: string
  /** The stream, as the user knows it: `stdout`. */
  stream: string
  /** @default LOG_QUEUE_MAX_BYTES */
  maxBytes?: number
}

/**
 * A {@link LineWriter} onto `out`, telling drops through `tell` (a line such as
 * `wsgiprox: 12 access lines dropped: stdout was not read`).
 */
export function lineWriter(
  out: NodeJS.WritableStream,
  tell: (text: string) => void,
  options: LineWriterOptions
): LineWriter {
  const maxBytes = options.maxBytes ?? LOG_QUEUE_MAX_BYTES
  let dropped = 0
  const queued = () =>
    (out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0
  const report = () => {
    if (dropped > 0) {
      const what = `${options.what}${dropped === 1 ? '' : 's'}`
      tell(`wsgiprox: ${dropped} ${what} dropped: ${options.stream} was not read\n`)
      dropped = 0
    }
  }
  return {
    write(text) {
      if (queued() >= maxBytes) {
        // The write that passed the stream's high-water mark asked for 'drain': report then.
        if (dropped === 0) {
          out.once('drain', report)
        }
        // An error with its stack below it is several lines: count each.
        dropped += Math.max(1, text.split('\n').length - 1)
        return
      }
      out.write(text)
    },
    report,
  }
}
