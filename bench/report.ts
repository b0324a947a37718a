/**
 * Prints the results as plain tables (one per workload, then memory) and a Markdown summary in
 * the shape (for the README's Performance section), and writes them as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { median, ratioToDirect, reason, summarize, summaryOf } from './stats'
import type { MemoryRecord, Results } from './stats'

/** Negative widths pad on the right (left-aligned text). */
const NAME_WIDTH = -16
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const rate = (n: number) => (n < 100 ? n.toFixed(1) : int(n))
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : int(n))
const mb = (n: number) => n.toFixed(1)
const pad = (text: string, width: number) =>
  width < 0 ? text.padEnd(-width) : text.padStart(width)

function row(cells: string[], widths: number[]): string {
  return '  ' + cells.map((text, i) => pad(text, widths[i] ?? 0)).join('  ')
}

const workloadsOf = (results: Results) => [...new Set(results.cells.map((c) => c.workload))]

export function formatTables(results: Results, systems: string[]): string {
  const out: string[] = []
  const widths = [NAME_WIDTH, 8, 15, 9, 7, 7, 9, 9, 5, 6, 6]
  for (const workload of workloadsOf(results)) {
    const cells = results.cells.filter((c) => c.workload === workload)
    const [first] = cells
    if (!first) {
      continue
    }
    out.push(`\n${workload} ${first.title} (${first.unit})`)
    const head = ['system', 'median', 'min–max', 'vs direct', 'p50 ms', 'p99 ms']
    const last = workload === 'W4' ? 'p50/W3' : 'errors'
    out.push(row([...head, 'server µs', 'client µs', 'other', 'RSS', last], widths))
    for (const cell of cells) {
      const s = summarize(cell)
      if (!s) {
        out.push(row([cell.system, reason(cell)], [NAME_WIDTH, -1]))
        continue
      }
      const toDirect = workload === 'W4' ? undefined : ratioToDirect(results, workload, cell.system)
      const ratio = toDirect === undefined ? '–' : `${toDirect.toFixed(2)}x`
      // W4's target compares a new host's time to first byte with a known host's (W3).
      const w3 = summaryOf(results, 'W3', cell.system)?.p50
      const lastValue =
        workload !== 'W4' ? String(s.errors) : w3 ? `${(s.p50 / w3).toFixed(1)}x` : '–'
      const values = [rate(s.median), `${rate(s.min)}–${rate(s.max)}`, ratio, ms(s.p50), ms(s.p99)]
      const other = s.otherCores === undefined ? '–' : s.otherCores.toFixed(2)
      const costs = [int(s.cpuUsPerOp), int(s.clientUsPerOp), other, mb(s.rssMB), lastValue]
      out.push(row([cell.system, ...values, ...costs], widths))
    }
  }
  out.push(
    "\n  vs direct: the median of the rounds' ratios (the systems of a round run back to back).",
    '  server/client µs: CPU per operation. Where client µs reaches server µs, the one-threaded',
    '  client set the pace and ratios understate the difference: compare server µs there.',
    '  other: the most cores other processes used during any round; above ~0.1 the spread is',
    "  theirs, not the system's. RSS: server MB after a GC, including ~30 MB of the tsx loader."
  )
  out.push(formatMemory(results, systems))
  return out.join('\n')
}

function formatMemory(results: Results, systems: string[]): string {
  const workloads = workloadsOf(results)
  const count = Object.values(results.memory).find((m) => m.churn)?.churn?.count
  const churnHead = count ? [`after ${int(count)}`, 'Δ warm', 'Δ churn', 'heap Δ', 'conn/s'] : []
  const widths = [NAME_WIDTH, 7, ...workloads.map(() => 6), 12, 6, 7, 6, 6]
  const out = [
    '\nMemory: server RSS MB after a GC (median over rounds)',
    row(['system', 'warm-up', ...workloads, ...churnHead], widths),
  ]
  for (const system of systems) {
    const memory = results.memory[system]
    if (!memory || memory.afterWarmup.length === 0) {
      continue
    }
    const perWorkload = workloads.map((w) => {
      const s = summaryOf(results, w, system)
      return s ? mb(s.rssMB) : '–'
    })
    const { churn } = memory
    // The churn runs in the last round: compare with that round's warm-up.
    const lastWarm = memory.afterWarmup.at(-1)?.rssMB ?? NaN
    const churnCells = churn
      ? [
          mb(churn.rssMB),
          mb(churn.rssMB - lastWarm),
          mb(churn.rssMB - churn.before.rssMB),
          mb(churn.heapMB - churn.before.heapMB),
          rate(churn.rate),
        ]
      : []
    const warm = mb(median(memory.afterWarmup.map((m) => m.rssMB)))
    out.push(row([system, warm, ...perWorkload, ...churnCells], widths))
  }
  if (count) {
    out.push(
      "  Δ warm: after the tunnels vs after warm-up (same round), W4's certificate caches",
      '  included; Δ churn and heap Δ: vs just before the tunnels, where a leak shows alone.'
    )
  }
  return out.join('\n')
}

/** The table shape: one row per workload, one column per system, ratios to direct. */
export function formatMarkdown(results: Results, systems: string[]): string {
  const out = [`| workload | ${systems.join(' | ')} |`, `|---|${'---:|'.repeat(systems.length)}`]
  for (const workload of workloadsOf(results)) {
    const first = results.cells.find((c) => c.workload === workload)
    if (!first) {
      continue
    }
    const values = systems.map((system) => {
      const s = summaryOf(results, workload, system)
      if (!s) {
        return 'n/a'
      }
      if (workload === 'W4') {
        return `${rate(s.median)} hosts/s, TTFB p50 ${ms(s.p50)} ms`
      }
      if (system === 'direct') {
        return `${rate(s.median)} ${first.unit}`
      }
      const toDirect = ratioToDirect(results, workload, system)
      return toDirect === undefined ? rate(s.median) : `${rate(s.median)} (${toDirect.toFixed(2)}x)`
    })
    out.push(`| ${workload} ${first.title} | ${values.join(' | ')} |`)
  }
  const memoryRow = (label: string, pick: (m: MemoryRecord) => number | undefined) => {
    const values = systems.map((system) => {
      const memory = results.memory[system]
      const value = memory && pick(memory)
      return value === undefined ? 'n/a' : `${value.toFixed(0)} MB`
    })
    out.push(`| ${label} | ${values.join(' | ')} |`)
  }
  memoryRow('RSS after warm-up', (m) =>
    m.afterWarmup.length ? median(m.afterWarmup.map((w) => w.rssMB)) : undefined
  )
  const count = Object.values(results.memory).find((m) => m.churn)?.churn?.count
  if (count) {
    memoryRow(`RSS after ${int(count)} tunnels`, (m) => m.churn?.rssMB)
  }
  return out.join('\n')
}

export async function writeJson(results: Results): Promise<string> {
  const dir = new URL('./results/', import.meta.url)
  await mkdir(dir, { recursive: true })
  const file = new URL('latest.json', dir)
  await writeFile(file, JSON.stringify(results, null, 2) + '\n')
  return file.pathname
}
