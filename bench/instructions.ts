/**
 * `npm run bench:instructions`: the user-space instructions each system's main thread spends on
 * one request, counted by callgrind (Valgrind). Unlike time, the count does not drift with the
 * machine: two runs agree within about 1%, which makes differences of a few hundred instructions
 * (one allocation, one regular expression) visible where req/s on this 2-vCPU guest moves by a
 * third within a minute. It does not see the kernel (about half of a W1 request's time here),
 * nor the JIT's compiler threads.
 *
 * Each server runs under `valgrind --tool=callgrind` with counting off; after a warm-up it is
 * counted over a short and a long run of the same workload, and the difference of the two counts
 * over the difference of their requests is the steady cost of one request (connection set-up and
 * TLS handshakes, the same in both runs, drop out). Options: --systems, --workloads (W1, W2),
 * --warm S (seconds of load before counting, per workload), --pairs N, and --profile DIR (keep
 * each system's last long run as a callgrind profile in DIR, `<workload>-<system>.out`, for
 * `callgrind_annotate`: its counts divided by the run's requests, printed beside it, give what
 * each function costs a request). Needs Debian's valgrind. Writes bench/results/instructions.json.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { targetFor } from './client'
import { ALL_SYSTEMS, SERVER_NODE, startSystem } from './systems'
import type { SystemHandle, SystemName } from './systems'
import { WORKLOADS } from './workloads'
import type { Workload } from './workloads'

const { values: args } = parseArgs({
  options: {
    systems: { type: 'string', default: 'direct,direct-fullpath,wsgiprox,http-mitm-proxy' },
    workloads: { type: 'string', default: 'W1,W2' },
    warm: { type: 'string', default: '30' },
    pairs: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
})

/** Seconds of the short and the long counted run. */
const SHORT_S = 2
const LONG_S = 8
/** Seconds of each warm-up run. */
const WARM_RUN_S = 3

const systems = args.systems.split(',').filter((name): name is SystemName => {
  const known = (ALL_SYSTEMS as readonly string[]).includes(name)
  if (!known) {
    console.log(`unknown system ${name}, left out`)
  }
  return known
})
const workloads = WORKLOADS.filter((w) => args.workloads.split(',').includes(w.id))
const pairs = Number(args.pairs)
const warmSeconds = Number(args.warm)

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  throw new Error('valgrind is not installed (apt-get install -y valgrind): nothing counted')
}

const outDir = mkdtempSync(join(tmpdir(), 'wsgiprox-callgrind-'))
if (args.profile !== undefined) {
  mkdirSync(args.profile, { recursive: true })
}
const WRAPPER = [
  'valgrind',
  '--tool=callgrind',
  '--instr-atstart=no',
  `--callgrind-out-file=${join(outDir, 'callgrind.%p.out')}`,
  // V8 writes the code it runs: callgrind must notice code that changes under it.
  '--smc-check=all-non-file',
  '--log-file=/dev/null',
]

/** `callgrind_control` on the server process. */
function control(pid: number, ...options: string[]): string {
  return execFileSync('callgrind_control', [...options, String(pid)], {
    encoding: 'utf8',
    // It tells on stderr what it is sending.
    stdio: ['ignore', 'pipe', 'ignore'],
  })
}

/** Instructions counted on the main thread (callgrind's thread 1) since counting was zeroed. */
function mainThreadInstructions(pid: number): number {
  const text = control(pid, '-e', 'Ir')
  const match = /Th\s+1\s+([\d,]+)/.exec(text)
  if (!match?.[1]) {
    throw new Error(`no instruction count from callgrind_control: ${text.slice(0, 200)}`)
  }
  return Number(match[1].replaceAll(',', ''))
}

/**
 * Count one run of `seconds`: the requests it made and the instructions they took. With `keep`,
 * the run's profile is dumped and copied to that file.
 */
async function counted(
  system: SystemHandle,
  workload: Workload,
  pid: number,
  seconds: number,
  keep?: string
) {
  control(pid, '-z')
  control(pid, '-i', 'on')
  const { ops, errors, firstError } = await workload.run(targetFor(system), seconds)
  const instructions = mainThreadInstructions(pid)
  if (keep !== undefined) {
    control(pid, '-d')
  }
  control(pid, '-i', 'off')
  if (keep !== undefined) {
    // The newest dump of this process: callgrind numbers them `callgrind.<pid>.out.<n>`.
    const dumps = readdirSync(outDir)
      .filter((file) => file.startsWith(`callgrind.${String(pid)}.out.`))
      .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
    const last = dumps.at(-1)
    if (last !== undefined) {
      copyFileSync(join(outDir, last), keep)
      console.log(`  profile of ${String(ops)} requests: ${keep}`)
    }
  }
  return { ops, instructions, errors, firstError }
}

interface Row {
  system: SystemName
  workload: string
  /** Steady instructions per request, one per pair of runs. */
  perRequest: number[]
  median: number
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Warm `name` up on `workload` in a process of its own, then count pairs of runs. */
async function count(name: SystemName, workload: Workload): Promise<Row | undefined> {
  const system = await startSystem(name, WRAPPER)
  try {
    const { pid } = system
    if (pid === undefined || workload.skip(system)) {
      return undefined
    }
    for (let spent = 0; spent < warmSeconds; spent += WARM_RUN_S) {
      await workload.run(targetFor(system), WARM_RUN_S)
    }
    const perRequest: number[] = []
    for (let tries = 0; perRequest.length < pairs && tries < pairs * 2; tries++) {
      const short = await counted(system, workload, pid, SHORT_S)
      const keep =
        args.profile === undefined ? undefined : join(args.profile, `${workload.id}-${name}.out`)
      const long = await counted(system, workload, pid, LONG_S, keep)
      const failed = short.errors + long.errors
      if (failed > 0) {
        // A failed request reconnects, and the new connection's handshake would be counted as
        // requests: the pair is run again.
        console.log(`  ${workload.id} ${name}: ${String(failed)} requests failed; pair run again`)
        continue
      }
      const instructions = long.instructions - short.instructions
      perRequest.push(Math.round(instructions / (long.ops - short.ops)))
    }
    return { system: name, workload: workload.id, perRequest, median: median(perRequest) }
  } finally {
    await system.stop()
  }
}

const rows: Row[] = []
const node = execFileSync(SERVER_NODE, ['--version'], { encoding: 'utf8' }).trim()
console.log(`servers on node ${node} under callgrind; warm-up ${warmSeconds} s, ${pairs} pairs`)
// A server process per system and workload: what one workload leaves in the heap and the JIT
// (a major collection, code optimised for another path) would be counted against the next.
for (const workload of workloads) {
  for (const name of systems) {
    const row = await count(name, workload)
    if (row) {
      rows.push(row)
      const all = row.perRequest.join(', ')
      console.log(`  ${workload.id} ${name}: ${row.median} instructions a request (${all})`)
    }
  }
}
rmSync(outDir, { recursive: true, force: true })

console.log('\n| workload | system | instructions a request | vs direct |')
console.log('|---|---|---:|---:|')
for (const row of rows) {
  const direct = rows.find((r) => r.workload === row.workload && r.system === 'direct')
  const ratio = direct ? (row.median / direct.median).toFixed(3) : '-'
  console.log(`| ${row.workload} | ${row.system} | ${row.median.toLocaleString('en')} | ${ratio} |`)
}
const results = new URL('./results/', import.meta.url)
mkdirSync(results, { recursive: true })
const file = new URL('instructions.json', results)
writeFileSync(file, JSON.stringify({ node, warmSeconds, pairs, rows }, null, 2) + '\n')
console.log(`\nwrote ${file.pathname}`)
