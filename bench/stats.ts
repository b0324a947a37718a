/**
 * The results model: what one cell measured in each round, and the medians over rounds that
 * the report prints. Kept apart from the formatting so the JSON and the tables agree.
 */
import type { Measurement } from './workloads'

/** What the server and the client spent around one measurement, and memory after it. */
export interface Usage {
  serverCpuUs: number
  clientCpuUs: number
  /** Cores' worth of CPU other processes used meanwhile (Linux only): above ~0.1, noise. */
  otherCores: number | undefined
  /** RSS and V8 heap of the server after a GC, in MB. */
  rssMB: number
  heapMB: number
}

/** One workload on one system in one round. */
export type RoundResult =
  | {
      rate: number
      /** Latency percentiles in ms (time to first byte for W3 and W4). */
      p50: number
      p99: number
      ops: number
      errors: number
      firstError?: string
      seconds: number
      /** Server CPU per operation: what the system costs, independent of the client. */
      cpuUsPerOp: number
      /** Client CPU per operation: when it nears the server's, the client is the limit. */
      clientUsPerOp: number
      otherCores?: number
      rssMB: number
      heapMB: number
    }
  | { error: string }

export interface Cell {
  workload: string
  title: string
  unit: string
  system: string
  /** Why it did not run at all (`n/a: ...`, `unavailable: ...`). */
  skipped?: string
  rounds: RoundResult[]
}

type MemoryPoint = Pick<Usage, 'rssMB' | 'heapMB'>

export interface MemoryRecord {
  /** One per round; churn runs in the last round only. */
  afterWarmup: MemoryPoint[]
  churn?: { count: number; rate: number; errors: number; firstError?: string } & MemoryPoint & {
      before: MemoryPoint
    }
}

export interface Results {
  meta: Record<string, unknown>
  systems: Record<string, { status: string; note?: string }>
  cells: Cell[]
  memory: Record<string, MemoryRecord>
  ca?: unknown
  startStop?: unknown
  replay?: unknown
}

export const toMB = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10

export function toRoundResult(m: Measurement, usage: Usage): RoundResult {
  if (m.ops === 0) {
    return { error: m.firstError ?? 'no operation completed' }
  }
  const sorted = Float64Array.from(m.latencies).sort()
  return {
    rate: m.ops / m.seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    ops: m.ops,
    errors: m.errors,
    ...(m.firstError === undefined ? {} : { firstError: m.firstError }),
    seconds: m.seconds,
    cpuUsPerOp: usage.serverCpuUs / m.ops,
    clientUsPerOp: usage.clientCpuUs / m.ops,
    ...(usage.otherCores === undefined ? {} : { otherCores: usage.otherCores }),
    rssMB: usage.rssMB,
    heapMB: usage.heapMB,
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const at = (i: number) => sorted[i] ?? NaN
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2
}

export interface Summary {
  median: number
  min: number
  max: number
  p50: number
  p99: number
  cpuUsPerOp: number
  clientUsPerOp: number
  /** The most any round was disturbed by other processes, in cores. */
  otherCores: number | undefined
  rssMB: number
  errors: number
}

/** Medians over the rounds that ran; undefined when none did. */
export function summarize(cell: Cell): Summary | undefined {
  const ok = cell.rounds.flatMap((r) => ('rate' in r ? [r] : []))
  if (ok.length === 0) {
    return undefined
  }
  const of = (pick: (r: (typeof ok)[number]) => number) => median(ok.map(pick))
  const rates = ok.map((r) => r.rate)
  return {
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    cpuUsPerOp: of((r) => r.cpuUsPerOp),
    clientUsPerOp: of((r) => r.clientUsPerOp),
    otherCores: ok.some((r) => r.otherCores !== undefined)
      ? Math.max(...ok.map((r) => r.otherCores ?? 0))
      : undefined,
    rssMB: of((r) => r.rssMB),
    errors: ok.reduce((sum, r) => sum + r.errors, 0),
  }
}

export function summaryOf(results: Results, workload: string, system: string) {
  const cell = results.cells.find((c) => c.workload === workload && c.system === system)
  return cell && summarize(cell)
}

/**
 * `system`'s rate over direct's: the median of the rounds' ratios. Each round runs the systems
 * back to back, so both sides of a ratio see the same speed of the machine, which on a shared or
 * virtual one drifts by a third within minutes; a ratio of the two medians would carry that drift.
 * Undefined when no round has both rates.
 */
export function ratioToDirect(results: Results, workload: string, system: string) {
  const ratesOf = (name: string) =>
    results.cells
      .find((c) => c.workload === workload && c.system === name)
      ?.rounds.map((r) => ('rate' in r ? r.rate : undefined)) ?? []
  const direct = ratesOf('direct')
  const ratios = ratesOf(system).flatMap((rate, round) => {
    const base = direct[round]
    return rate !== undefined && base ? [rate / base] : []
  })
  return ratios.length > 0 ? median(ratios) : undefined
}

/** Why a cell has no numbers: its skip reason or the first round's error. */
export function reason(cell: Cell): string {
  if (cell.skipped) {
    return cell.skipped
  }
  const failed = cell.rounds.find((r) => 'error' in r)
  return failed && 'error' in failed ? `failed: ${failed.error}` : 'not run'
}
