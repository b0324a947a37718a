/**
 * Does a shared `ca.certsDir` pay across cluster workers? Each worker caches host contexts of
 * its own, so a host whose next tunnel lands on another worker is issued again there, unless
 * the workers share issued certificates through the folder. Two workloads, on `wsgiprox-2w`
 * against `wsgiprox-2w-certsdir`, alternating over rounds:
 *
 * - W4, a never-seen host per tunnel: the folder can only cost (a write per host, a failed read);
 * - revisit: hosts in blocks, each block visited twice in order. The primary hands each
 *   connection to a worker that is free, so a second visit lands on either worker, the other
 *   one (the case the folder is for) about half the time with two workers.
 *
 * Run: `npm run build && node --import tsx bench/certs-dir.ts [--rounds 3] [--seconds 7]`.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { targetFor } from './client'
import { startSystem } from './systems'
import type { SystemHandle, SystemName } from './systems'
import { newConnections } from './workloads'

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '7' } },
})
const ROUNDS = Number(args.rounds)
const SECONDS = Number(args.seconds)
const SYSTEMS: SystemName[] = ['wsgiprox-2w', 'wsgiprox-2w-certsdir']
/** More hosts than tunnels in flight (8), so a block's first visits are done before its second. */
const BLOCK = 63
const RUN_ID = randomBytes(4).toString('hex')

interface Sample {
  rate: number
  cpuUsPerOp: number
}

const samples = new Map<string, Sample[]>()
let counter = 0

async function measure(system: SystemHandle, name: string, hostFor: () => string) {
  const target = targetFor(system)
  const before = await system.stats()
  const m = await newConnections(target, hostFor, { seconds: SECONDS })
  const after = await system.stats()
  const sample = { rate: m.ops / m.seconds, cpuUsPerOp: (after.cpuUs - before.cpuUs) / m.ops }
  const key = `${name} ${system.name}`
  samples.set(key, [...(samples.get(key) ?? []), sample])
  process.stdout.write(
    `  ${key}: ${Math.round(sample.rate)}/s, ${Math.round(sample.cpuUsPerOp)} µs server CPU each` +
      `${m.errors > 0 ? `, ${m.errors} errors (${m.firstError ?? ''})` : ''}\n`
  )
}

function revisitHosts(prefix: string): () => string {
  let i = 0
  return () => {
    const block = Math.floor(i / (2 * BLOCK))
    const host = `${prefix}-${block * BLOCK + (i % BLOCK)}-${RUN_ID}.com`
    i++
    return host
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

for (let round = 1; round <= ROUNDS; round++) {
  process.stdout.write(`round ${round}/${ROUNDS}\n`)
  const order = round % 2 === 0 ? [...SYSTEMS].reverse() : SYSTEMS
  for (const name of order) {
    const system = await startSystem(name)
    try {
      await measure(system, 'W4', () => `n${++counter}-${RUN_ID}.com`)
      await measure(system, 'revisit', revisitHosts(`r${round}`))
    } finally {
      await system.stop()
    }
  }
}

process.stdout.write('\nmedians\n')
for (const [key, list] of samples) {
  const rate = median(list.map((s) => s.rate))
  const cpu = median(list.map((s) => s.cpuUsPerOp))
  process.stdout.write(`  ${key}: ${Math.round(rate)}/s, ${Math.round(cpu)} µs server CPU each\n`)
}
