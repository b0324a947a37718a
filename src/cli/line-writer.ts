/**
 * Lines written with back-pressure: when a stream is not read (a pager that stopped, a log
 * shipper that is down), lines beyond a bounded queue are dropped and counted instead of held in
 * memory, and the count is told once the stream drains and when the proxy stops. When its reader
 * goes away (`wsgiprox | head`: the pipe's reading end closes and each write fails with EPIPE),
 * every later line is dropped and counted the same way, and the proxy keeps serving. The access
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
  const what = (count: number) => `${count} ${options.what}${count === 1 ? '' : 's'}`
  // Lines past the queue while the stream was not read, and lines lost once it failed (EPIPE).
  let dropped = 0
  let lost = 0
  let closed = false
  const queued = () =>
    (out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0
  const report = () => {
    if (dropped > 0) {
      tell(`wsgiprox: ${what(dropped)} dropped: ${options.stream} was not read\n`)
      dropped = 0
    }
    if (lost > 0) {
      tell(`wsgiprox: ${what(lost)} dropped: ${options.stream} was closed\n`)
      lost = 0
    }
  }
  // A write that failed, and each write queued behind it, is a lost write (one line, mostly).
  const written = (error?: Error | null) => {
    if (error) {
      lost++
    }
  }
  // Without a listener, the stream's error would end the process; 'drain' never comes after it.
  out.on('error', () => {
    closed = true
  })
  return {
    write(text) {
      if (closed) {
        lost += lineCount(text)
        return
      }
      if (queued() >= maxBytes) {
        // The write that passed the stream's high-water mark asked for 'drain': report then.
        if (dropped === 0) {
          out.once('drain', report)
        }
        dropped += lineCount(text)
        return
      }
      out.write(text, written)
    },
    report,
  }
}

/** The lines in `text`: an error with its stack below it is several, and each is counted. */
function lineCount(text: string): number {
  return Math.max(1, text.split('\n').length - 1)
}
