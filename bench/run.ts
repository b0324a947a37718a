/**
 * `npm run bench [-- --quick]`: every workload against every system, systems alternating,
 * several rounds, each server in its own process. Prints medians with spreads and writes
 * bench/results/latest.json. Options: --rounds N, --seconds S (per cell), --churn N,
 * --systems a,b and --workloads W1,W3 to run a subset, --skip-ca to leave out bench/ca.ts,
 * --skip-start-stop to leave out bench/start-stop.ts; --skip-replay to leave out bench/replay.ts.
 * Environment: BENCH_NODE, the node binary of the servers; BENCH_SERVER_FLAGS, their node flags.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { targetFor } from './client'
import type { Target } from './client'
import { machineCpu, otherCores } from './machine'
import { formatMarkdown, formatTables, writeJson } from './report'
import { toMB, toRoundResult } from './stats'
import type { Cell, MemoryRecord, Results, Usage } from './stats'
import { ALL_SYSTEMS, PEERS, SERVER_NODE, SYSTEMS, startSystem } from './systems'
import type { SystemHandle, SystemName } from './systems'
import { churn, WORKLOADS } from './workloads'
import type { Measurement, Workload } from './workloads'

const PROFILES = {
  // 7 rounds of 3 s cells (27 cells: 9.5 minutes, plus warm-up and churn) rather than 3 of 7 s:
  // the ratio to direct is the median of the rounds' ratios, and on a machine whose speed drifts
  // a median of 3 follows one bad round.
  full: { rounds: 7, seconds: 3, warmSeconds: 0.5, churn: 10_000 },
  quick: { rounds: 1, seconds: 1, warmSeconds: 0.25, churn: 1_000 },
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    churn: { type: 'string' },
    systems: { type: 'string' },
    workloads: { type: 'string' },
    'skip-ca': { type: 'boolean', default: false },
    'skip-start-stop': { type: 'boolean', default: false },
    'skip-replay': { type: 'boolean', default: false },
  },
})
const profile = PROFILES[args.quick ? 'quick' : 'full']
const config = {
  ...profile,
  rounds: Number(args.rounds ?? profile.rounds),
  seconds: Number(args.seconds ?? profile.seconds),
  churn: Number(args.churn ?? profile.churn),
}
const systems = args.systems === undefined ? [...SYSTEMS] : pick(ALL_SYSTEMS, args.systems)
const workloads = WORKLOADS.filter((w) => pick([w.id], args.workloads).length > 0)

function pick<T extends string>(all: readonly T[], list: string | undefined): T[] {
  if (list === undefined) {
    return [...all]
  }
  const wanted = new Set(list.split(','))
  return all.filter((name) => wanted.has(name))
}

const log = (line: string) => process.stdout.write(line + '\n')
const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** A started system and how the client reaches it. */
interface Running {
  system: SystemHandle
  target: Target
}

/** Starts the systems concurrently; one that cannot run is reported and left out of later rounds. */
async function startAll(names: SystemName[], results: Results): Promise<Running[]> {
  const started = await Promise.all(
    names.map(async (name) => {
      try {
        const system = await startSystem(name)
        results.systems[name] = { status: 'ok', ...(system.note && { note: system.note }) }
        return [{ system, target: targetFor(system) }]
      } catch (error) {
        const status = `unavailable: ${message(error)}`
        results.systems[name] = { status }
        log(`  ${name}: ${status}`)
        for (const w of workloads) {
          cellOf(results, w, name).skipped = status
        }
        return []
      }
    })
  )
  return started.flat()
}

function cellOf(results: Results, workload: Workload, system: string): Cell {
  const found = results.cells.find((c) => c.workload === workload.id && c.system === system)
  if (found) {
    return found
  }
  const { id, title, unit } = workload
  const cell: Cell = { workload: id, title, unit, system, rounds: [] }
  results.cells.push(cell)
  return cell
}

/** Runs one measurement with CPU read around it on both sides, and memory after it. */
async function measure(system: SystemHandle, run: () => Promise<Measurement>) {
  const before = await system.stats()
  const machine = machineCpu()
  const client = process.cpuUsage()
  const measurement = await run()
  const clientUsed = process.cpuUsage(client)
  const after = await system.stats(true)
  const serverCpuUs = after.cpuUs - before.cpuUs
  const clientCpuUs = clientUsed.user + clientUsed.system
  const usage: Usage = {
    serverCpuUs,
    clientCpuUs,
    otherCores: otherCores(machine, serverCpuUs + clientCpuUs),
    rssMB: toMB(after.rss),
    heapMB: toMB(after.heapUsed),
  }
  return { measurement, usage }
}

/** JIT, connection pools and the `example.com` certificate, before anything is recorded. */
async function warmUp({ system, target }: Running): Promise<void> {
  for (const workload of workloads) {
    if (workload.id === 'W4' || workload.skip(system)) {
      continue
    }
    try {
      await workload.run(target, config.warmSeconds)
    } catch (error) {
      log(`  ${system.name} warm-up ${workload.id} failed: ${message(error)}`)
    }
  }
}

async function runRound(round: number, names: SystemName[], results: Results): Promise<void> {
  log(`round ${round}/${config.rounds}`)
  const running = await startAll(names, results)
  try {
    for (const run of running) {
      await warmUp(run)
      const { rss, heapUsed } = await run.system.stats(true)
      memoryOf(results, run.system).afterWarmup.push({ rssMB: toMB(rss), heapMB: toMB(heapUsed) })
    }
    for (const [index, workload] of workloads.entries()) {
      // Rotating the order per round and workload spreads drift (thermal, caches) over all.
      const shift = (round + index) % running.length
      for (const run of [...running.slice(shift), ...running.slice(0, shift)]) {
        await runCell(workload, run, results)
      }
    }
    if (round === config.rounds && config.churn > 0) {
      for (const run of running) {
        await runChurn(run, results)
      }
    }
  } finally {
    await Promise.all(running.map(({ system }) => system.stop()))
  }
}

async function runCell(workload: Workload, { system, target }: Running, results: Results) {
  const cell = cellOf(results, workload, system.name)
  const skip = workload.skip(system)
  if (skip) {
    cell.skipped = skip
    return
  }
  try {
    const m = await measure(system, () => workload.run(target, config.seconds))
    const result = toRoundResult(m.measurement, m.usage)
    cell.rounds.push(result)
    const line = 'rate' in result ? `${Math.round(result.rate)} ${workload.unit}` : result.error
    log(`  ${workload.id} ${system.name}: ${line}`)
  } catch (error) {
    cell.rounds.push({ error: message(error) })
    log(`  ${workload.id} ${system.name}: failed: ${message(error)}`)
  }
}

function memoryOf(results: Results, system: SystemHandle): MemoryRecord {
  return (results.memory[system.name] ??= { afterWarmup: [] })
}

/**
 * Opens and closes `config.churn` tunnels, then reads RSS: a leak shows as RSS not coming back.
 * Memory just before is kept too, so the churn's own effect is told apart from what W4's new
 * hosts left in certificate caches.
 */
async function runChurn({ system, target }: Running, results: Results): Promise<void> {
  try {
    const before = await system.stats(true)
    const { measurement: m, usage } = await measure(system, () => churn(target, config.churn))
    const { rssMB, heapMB } = usage
    memoryOf(results, system).churn = {
      count: config.churn,
      rate: m.ops / m.seconds,
      errors: m.errors,
      ...(m.firstError && { firstError: m.firstError }),
      before: { rssMB: toMB(before.rss), heapMB: toMB(before.heapUsed) },
      rssMB,
      heapMB,
    }
    log(`  churn ${system.name}: ${m.ops} in ${m.seconds.toFixed(1)} s, RSS ${rssMB} MB`)
  } catch (error) {
    log(`  churn ${system.name}: failed: ${message(error)}`)
  }
}

/**
/**
 * A bench file of its own (bench/ca.ts, bench/start-stop.ts, bench/replay.ts), in a process of
 * its own on the servers' node, since what it measures is server work; it prints its table and
 * writes the figures it measured to bench/results/<name>.json, read back here.
 */
async function runSection(name: string, title: string, skip: boolean): Promise<unknown> {
  const file = new URL(`./${name}.ts`, import.meta.url)
  if (skip || !existsSync(file)) {
    return undefined
  }
  try {
    log(`\n${title} (bench/${name}.ts)`)
    const flags = ['--import', 'tsx', fileURLToPath(file), ...(args.quick ? ['--quick'] : [])]
    await promisify(execFile)(SERVER_NODE, flags).then(({ stdout }) => log(stdout))
    return JSON.parse(await readFile(new URL(`./results/${name}.json`, import.meta.url), 'utf8'))
  } catch (error) {
    log(`${title} failed: ${message(error)}`)
    return { error: message(error) }
  }
}

/** The peers are a package of their own (bench/peers/), installed on first use. */
function installPeers(names: SystemName[]): void {
  const folder = fileURLToPath(new URL('./peers/', import.meta.url))
  if (!names.some((name) => PEERS.has(name)) || existsSync(`${folder}node_modules`)) {
    return
  }
  log(`installing the peers into ${folder}node_modules (npm ci)`)
  execFileSync('npm', ['ci', '--prefix', folder, '--no-audit', '--no-fund'], { stdio: 'inherit' })
}

function serverNodeVersion(): string {
  return execFileSync(SERVER_NODE, ['--version'], { encoding: 'utf8' }).trim()
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

async function main(): Promise<void> {
  const started = Date.now()
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      commit: commit(),
      node: process.version,
      serverNode: serverNodeVersion(),
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
      mode: args.quick ? 'quick' : 'full',
      ...config,
    },
    systems: {},
    cells: [],
    memory: {},
  }
  installPeers(systems)
  log(`servers on Node ${String(results.meta.serverNode)}, client on Node ${process.version}`)
  let names: SystemName[] = systems
  for (let round = 1; round <= config.rounds; round++) {
    await runRound(round, names, results)
    names = names.filter((name) => results.systems[name]?.status === 'ok')
  }
  const ca = await runSection('ca', 'CA bench', args['skip-ca'])
  if (ca !== undefined) {
    results.ca = ca
  }
  // mockttp, its peer there, comes from bench/peers, installed above when mockttp is a system.
  installPeers(['mockttp'])
  const startStop = await runSection('start-stop', 'Start/stop bench', args['skip-start-stop'])
  if (startStop !== undefined) {
    results.startStop = startStop
  }
  const replay = await runSection('replay', 'Replay bench', args['skip-replay'])
  if (replay !== undefined) {
    results.replay = replay
  }
  results.meta.totalSeconds = Math.round((Date.now() - started) / 100) / 10
  log(formatTables(results, systems))
  log('\nSummary (medians; ratio to direct in parentheses)\n')
  log(formatMarkdown(results, systems))
  const file = await writeJson(results)
  log(
    `\n${String(results.meta.mode)} run took ${String(results.meta.totalSeconds)} s; wrote ${file}`
  )
}

await main()
