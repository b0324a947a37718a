/**
 * `npm run soak -- --minutes N [--faults all|none|kind,kind] [--warmup SECONDS]`: every kind of
 * client at once against one proxy (in a child process, built from this checkout) for N
 * minutes, sampled every second; then the clients close, the proxy's descriptors are given time
 * to settle, and the targets are checked. Writes bench/results/soak-<time>.json and .svg (and
 * soak-latest.*), prints the checks, and exits 1 when one fails.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once, setMaxListeners } from 'node:events'
import { createWriteStream } from 'node:fs'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { renderChart } from './chart'
import { parseFaults } from './faults'
import { runLoop } from './loop'
import { planLoops } from './plan'
import type { Sample, Scrape } from './sample'
import {
  buckets,
  countFds,
  p99Between,
  percentile99,
  P99_WINDOW,
  scrapeMetrics,
  total,
} from './sample'
import { checkTargets, slope } from './targets'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    faults: { type: 'string', default: 'all' },
    warmup: { type: 'string' },
  },
})
const seconds = Math.round(Number(args.minutes) * 60)
if (!(seconds >= 30)) {
  throw new Error('--minutes must be at least 0.5')
}
const faults = parseFaults(args.faults)
const warmup = Number(args.warmup ?? Math.min(60, Math.max(20, seconds / 4)))
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url))
const log = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** The soak's own heap: a client that leaks would end the run, not the proxy. */
const clientHeapMB = () => process.memoryUsage().heapUsed / 2 ** 20

/** How long the proxy gets, after the clients close, to give its descriptors back. */
const SETTLE_SECONDS = 20

/** Errors a fault explains, by the phase the proxy reports them in. */
const FAULT_PHASES = new Set(['app'])

const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const base = `${RESULTS}soak-${stamp}`
await mkdir(RESULTS, { recursive: true })
// What the proxy process prints (it should print nothing) goes to a file beside the report.
const proxyOutput = createWriteStream(`${base}.proxy.log`)
let proxyOutputLines = 0
const child = fork(fileURLToPath(new URL('./proxy-child.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
})
for (const stream of [child.stdout, child.stderr]) {
  stream?.on('data', (chunk: Buffer) => {
    proxyOutputLines += chunk.toString().split('\n').length - 1
    proxyOutput.write(chunk)
  })
}
const pid = child.pid ?? 0
const [ready] = (await once(child, 'message')) as [{ port: number; caPem: string }]
const target = { port: ready.port, caPem: ready.caPem }
let proxyExit: string | undefined
const stop = new AbortController()
setMaxListeners(0, stop.signal)
const started = Date.now()
const elapsed = () => (Date.now() - started) / 1000
child.once('exit', (code, signal) => {
  proxyExit = `the proxy exited (${signal ?? `code ${code}`}) ${elapsed().toFixed(0)} s into the run`
  stop.abort()
})
log(
  `soak: ${args.minutes} min against the proxy (pid ${pid}, port ${target.port}); faults: ${faults.join(', ') || 'none'}`
)

await sleep(1_000)
await scrapeMetrics(target.port)
const fdBaseline = await countFds(pid)
const run = Date.now().toString(36)
const { loops, stats, close } = planLoops(target, seconds, faults, run)
const until = Date.now() + seconds * 1000
const endTimer = setTimeout(() => {
  stop.abort()
}, seconds * 1000)
const running = Promise.all(
  loops.map((loop) => runLoop(loop.options, loop.stats, until, stop.signal, loop.operation))
)

const samples: Sample[] = []
const history: { t: number; buckets: Map<number, number> }[] = []
let previous: Scrape | undefined
const takeSample = async (): Promise<void> => {
  const t = elapsed()
  const [scrape, fds] = await Promise.all([scrapeMetrics(target.port), countFds(pid)])
  const latencies = [stats.http1, stats.h2].flatMap((s) => s?.latencies.splice(0) ?? [])
  const counts = scrape && buckets(scrape)
  if (counts) {
    history.push({ t, buckets: counts })
  }
  const windowStart = history.at(-1 - P99_WINDOW) ?? history[0]
  const requests = scrape && total(scrape, 'wsgiprox_requests_total')
  samples.push({
    t,
    rssMB: scrape && total(scrape, 'process_resident_memory_bytes') / 2 ** 20,
    fds,
    handles: scrape && total(scrape, 'nodejs_active_handles_total'),
    loopDelayP99Ms: scrape && total(scrape, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    p99Ms: counts && windowStart ? p99Between(windowStart.buckets, counts) : undefined,
    clientP99Ms: percentile99(latencies),
    requestsPerSecond:
      requests !== undefined && previous
        ? requests - total(previous, 'wsgiprox_requests_total')
        : undefined,
    tunnels: scrape && total(scrape, 'wsgiprox_open_tunnels'),
    h2Sessions: scrape && total(scrape, 'wsgiprox_http2_sessions'),
  })
  previous = scrape ?? previous
}
const sampler = setInterval(() => void takeSample(), 1_000)
const progress = setInterval(() => {
  const last = samples.at(-1)
  log(
    `  ${elapsed().toFixed(0)} s: RSS ${last?.rssMB?.toFixed(1)} MB, fds ${last?.fds}, p99 ${last?.p99Ms?.toFixed(1)} ms, ${last?.requestsPerSecond} req/s (client heap ${clientHeapMB().toFixed(0)} MB)`
  )
}, 30_000)

await running
clearTimeout(endTimer)
stop.abort()
await close()
// The clients are gone: the proxy gets a while to close what they left, sampled as before.
let fdEnd = await countFds(pid)
for (let i = 0; i < SETTLE_SECONDS && !proxyExit && (fdEnd ?? 0) > (fdBaseline ?? 0); i++) {
  await sleep(1_000)
  fdEnd = await countFds(pid)
}
clearInterval(sampler)
clearInterval(progress)
const finalScrape = proxyExit ? previous : await scrapeMetrics(target.port)
const proxyErrors = await errorsOf(child)
if (!proxyExit) {
  child.kill('SIGTERM')
}

// p99 windows after warm-up: the first, then the rest, each up to a minute long.
const windowLength = Math.min(60, Math.max(10, (seconds - warmup) / 2))
const bucketsAt = (t: number) => history.find((h) => h.t >= t)?.buckets
const p99Windows = []
for (let from = warmup; from + windowLength <= seconds + 0.5; from += windowLength) {
  const a = bucketsAt(from)
  const b = bucketsAt(from + windowLength) ?? history.at(-1)?.buckets
  p99Windows.push({ from, to: from + windowLength, p99Ms: a && b ? p99Between(a, b) : undefined })
}
const errorsByPhase: Record<string, number> = {}
for (const [key, value] of finalScrape ?? []) {
  const phase = /^wsgiprox_errors_total\{phase="([^"]+)"\}/.exec(key)?.[1]
  if (phase !== undefined) {
    errorsByPhase[phase] = value
  }
}
const unexpectedErrors = Object.fromEntries(
  Object.entries(errorsByPhase).filter(([phase]) => !(faults.length > 0 && FAULT_PHASES.has(phase)))
)
const unexpectedFailures = Object.fromEntries(
  Object.entries(stats).map(([name, s]) => [name, s.failed])
)
const checks = checkTargets({
  samples,
  warmupSeconds: warmup,
  p99Windows,
  fdBaseline,
  fdEnd,
  proxyExit,
  unexpectedFailures,
  unexpectedErrors,
})
const fitted = samples.filter((s) => s.t >= warmup && s.rssMB !== undefined)
const rssSlope = slope(fitted.map((s) => [s.t, s.rssMB ?? 0]))
const first = fitted[0]
const last = fitted.at(-1)
const meanRss = fitted.reduce((sum, s) => sum + (s.rssMB ?? 0), 0) / Math.max(fitted.length, 1)
const meanT = fitted.reduce((sum, s) => sum + s.t, 0) / Math.max(fitted.length, 1)
const at = (t: number): [number, number] => [t, meanRss + rssSlope * (t - meanT)]
const pass = checks.every((c) => c.pass)
const title = `wsgiprox soak: ${args.minutes} min, faults ${faults.join(', ') || 'none'}: ${pass ? 'PASS' : 'FAIL'}`
const report = {
  title,
  date: new Date().toISOString(),
  node: process.version,
  minutes: Number(args.minutes),
  warmupSeconds: warmup,
  faults,
  checks,
  fdBaseline,
  fdEnd,
  proxyExit,
  errorsByPhase,
  proxyErrors,
  proxyOutputLines,
  clientHeapMBAtEnd: Math.round(clientHeapMB()),
  p99Windows,
  loops: Object.fromEntries(
    Object.entries(stats).map(([name, s]) => [
      name,
      { ok: s.ok, expected: s.expected, failed: s.failed, failures: s.failures, notes: s.notes },
    ])
  ),
  samples,
}
const svg = renderChart({
  title,
  samples,
  warmupSeconds: warmup,
  checks,
  rssFit: first && last ? [at(first.t), at(last.t)] : undefined,
  fdBaseline,
  p99Bound: p99Windows[0]?.p99Ms === undefined ? undefined : 2 * p99Windows[0].p99Ms,
})
proxyOutput.end()
await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`)
await writeFile(`${base}.svg`, svg)
await copyFile(`${base}.json`, `${RESULTS}soak-latest.json`)
await copyFile(`${base}.svg`, `${RESULTS}soak-latest.svg`)

log('')
for (const [name, s] of Object.entries(report.loops)) {
  const extra = [...Object.entries(s.notes), ...Object.entries(s.failures)]
    .map(([k, n]) => `${k}: ${n}`)
    .join('; ')
  log(
    `  ${name.padEnd(22)} ok ${s.ok}, expected ${s.expected}, failed ${s.failed}${extra ? ` (${extra})` : ''}`
  )
}
log(`  onError by phase: ${JSON.stringify(errorsByPhase)}`)
log(`  the proxy printed ${proxyOutputLines} lines (${base}.proxy.log)`)
log(`  the soak's own heap at the end: ${clientHeapMB().toFixed(0)} MB`)
for (const check of checks) {
  log(`${check.skipped ? 'SKIP' : check.pass ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`)
}
log(`wrote ${base}.json and .svg (also bench/results/soak-latest.svg)`)
process.exitCode = pass ? 0 : 1

/** The first messages the proxy reported per phase, asked for over IPC (none once it exited). */
async function errorsOf(proxy: ChildProcess): Promise<Record<string, string[]>> {
  if (proxyExit || !proxy.connected) {
    return {}
  }
  proxy.send({ type: 'errors' })
  const reply = once(proxy, 'message') as Promise<[{ errors: Record<string, string[]> }]>
  const [message] = await Promise.race([reply, sleep(2_000).then(() => [{ errors: {} }] as const)])
  return message.errors
}
