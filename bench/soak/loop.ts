/**
 * One kind of client, run as a bounded loop: at most `iterations` operations, `concurrency` at a
 * time, each given `timeoutMs`, none started after `until`. What each operation ended with is
 * counted: `ok`, `expected` (a failure the loop provokes on purpose) or a failure, by message.
 */
import { setMaxListeners } from 'node:events'

/**
 * What an operation reports: done as asked (`ok`, its time counted as a latency; `done`, when it
 * counted its own requests' latencies), or a failure it meant to cause (`expected`).
 */
export type Outcome = 'ok' | 'done' | 'expected'

export interface LoopOptions {
  concurrency: number
  iterations: number
  timeoutMs: number
  /** Pause between two operations of one worker. */
  pauseMs: number
}

/** The counts of one loop. */
export interface LoopStats {
  ok: number
  expected: number
  failed: number
  /** Failures by message, the first 100 characters. */
  failures: Record<string, number>
  /** Latencies (ms) of operations since the sampler last took them. */
  latencies: number[]
  /** What operations noted besides their outcome, counted. */
  notes: Record<string, number>
}

export type Operation = (signal: AbortSignal, index: number) => Promise<Outcome>

/** Count `what` in `stats.notes`. */
export function note(stats: LoopStats, what: string): void {
  stats.notes[what] = (stats.notes[what] ?? 0) + 1
}

export function newStats(): LoopStats {
  return { ok: 0, expected: 0, failed: 0, failures: {}, latencies: [], notes: {} }
}

/** Run `operation` as `options` bound it, until `until` (ms since the epoch) or `stop` aborts. */
export async function runLoop(
  options: LoopOptions,
  stats: LoopStats,
  until: number,
  stop: AbortSignal,
  operation: Operation
): Promise<void> {
  let started = 0
  // Read through a function: the signal aborts while the loop awaits.
  const stopped = () => stop.aborted
  // The operations are spread over the run: operation n starts no earlier than n spacings in, so
  // a fast loop does not spend its whole count in the first minute and leave the rest of the run
  // to the slow ones (which would move the p99 that the run compares across windows).
  const begun = Date.now()
  const spacing = (until - begun) / Math.max(options.iterations, 1)
  // Each operation has a controller of its own, aborted at its timeout or when the run stops.
  // Not AbortSignal.any([stop, ...]): on Node 20 the run-long `stop` keeps every signal composed
  // from it, and with it each operation's listeners and promises (1.5 GB in 20 minutes).
  const active = new Set<AbortController>()
  const onStop = () => {
    for (const controller of active) {
      controller.abort(new Error('stopped'))
    }
  }
  stop.addEventListener('abort', onStop, { once: true })
  const worker = async () => {
    while (started < options.iterations && Date.now() < until && !stopped()) {
      const index = started++
      const due = begun + index * spacing - Date.now()
      if (due > 0) {
        await new Promise((resolve) => setTimeout(resolve, due))
        if (stopped() || Date.now() >= until) {
          return
        }
      }
      const controller = new AbortController()
      const timer = setTimeout(() => {
        controller.abort(new Error('timed out'))
      }, options.timeoutMs)
      active.add(controller)
      const { signal } = controller
      // An operation waits on many events, each with its own abort listener.
      setMaxListeners(0, signal)
      const begin = performance.now()
      try {
        const outcome = await operation(signal, index)
        stats[outcome === 'done' ? 'ok' : outcome]++
        if (outcome === 'ok') {
          stats.latencies.push(performance.now() - begin)
        }
      } catch (error) {
        if (stopped()) {
          return
        }
        const reason = error instanceof Error ? error.message : String(error)
        const message = signal.aborted ? 'timed out' : reason
        stats.failed++
        const key = message.slice(0, 100)
        stats.failures[key] = (stats.failures[key] ?? 0) + 1
      } finally {
        clearTimeout(timer)
        active.delete(controller)
      }
      if (options.pauseMs > 0 && !stopped()) {
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs))
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker))
  } finally {
    stop.removeEventListener('abort', onStop)
  }
}

/** Reject when `signal` aborts; for awaiting events that may never come. */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'))
      return
    }
    signal.addEventListener(
      'abort',
      () => {
        reject(new Error('aborted'))
      },
      { once: true }
    )
  })
}
