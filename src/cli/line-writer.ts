/**
 * Access lines written with back-pressure: when stdout is not read (a pager that stopped, a log
 * shipper that is down), lines beyond a bounded queue are dropped and counted instead of held in
 * memory, and the count is told on stderr once stdout drains and when the proxy stops.
 * @module
 */

/** The most bytes of access lines waiting for stdout before new lines are dropped. */
export const LOG_QUEUE_MAX_BYTES = 1024 * 1024

/** Writes lines to a stream, dropping (and counting) what would queue past a bound. */
export interface LineWriter {
  write(line: string): void
  /** Tell on stderr how many lines were dropped since the last report, if any. */
  report(): void
}

/** A {@link LineWriter} onto `out`, reporting drops on `err`. */
export function lineWriter(
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  maxBytes = LOG_QUEUE_MAX_BYTES
): LineWriter {
  let dropped = 0
  const queued = () =>
    (out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0
  const report = () => {
    if (dropped > 0) {
      err.write(
        `wsgiprox: ${dropped} access line${dropped === 1 ? '' : 's'} dropped: stdout was not read\n`
      )
      dropped = 0
    }
  }
  return {
    write(line) {
      if (queued() >= maxBytes) {
        // The write that passed the stream's high-water mark asked for 'drain': report then.
        if (dropped++ === 0) {
          out.once('drain', report)
        }
        return
      }
      out.write(line)
    },
    report,
  }
}
