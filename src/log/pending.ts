/**
 * Request records begun and not yet reported, counted per `onLog`, so that `close()` resolves
 * only once the records of the requests it cut have been reported: a test reads them right
 * after `await proxy.close()`, and a program that exits after it has logged them all.
 * @module
 */
import type { LogRecord } from './records'

type OnLog = (record: LogRecord) => void

/** How many records of one proxy are awaited, and who waits for the last. */
export interface Pending {
  count: number
  idle: (() => void)[]
}

/**
 * Keyed by the proxy's `onLog` (one function per proxy, made by `normalizeOptions`), which every
 * watcher already holds: no other value would have to travel to them.
 */
const pendingByLog = new WeakMap<OnLog, Pending>()

/**
 * A cap on the wait in {@link recordsReported}: every socket is destroyed by then, so records
 * come within an event-loop turn; the cap keeps a response that outlives close() from hanging it.
 */
export const RECORDS_WAIT_MS = 1000

/** Count a record of `onLog` as awaited; hand what this returns to {@link recordReported}. */
export function awaitRecord(onLog: OnLog): Pending {
  let pending = pendingByLog.get(onLog)
  if (!pending) {
    pending = { count: 0, idle: [] }
    pendingByLog.set(onLog, pending)
  }
  pending.count += 1
  return pending
}

/** The record counted by {@link awaitRecord} was reported. */
export function recordReported(pending: Pending): void {
  pending.count -= 1
  if (pending.count === 0) {
    for (const resolve of pending.idle.splice(0)) {
      resolve()
    }
  }
}

/** Resolves when no record of `onLog` is awaited any more, or after {@link RECORDS_WAIT_MS}. */
export async function recordsReported(onLog: OnLog | undefined): Promise<void> {
  const pending = onLog && pendingByLog.get(onLog)
  if (!pending || pending.count === 0) {
    return
  }
  let timer: NodeJS.Timeout | undefined
  await new Promise<void>((resolve) => {
    pending.idle.push(resolve)
    timer = setTimeout(resolve, RECORDS_WAIT_MS).unref()
  })
  clearTimeout(timer)
}
