/**
 * What a test suite pays per proxy: start a proxy, get the first HTTPS answer through it, stop it.
 * wsgiprox's `startProxy` with a new in-memory CA each time and with one CA reused across the run,
 * against mockttp's `getLocal({ https: await generateCACertificate() })` → `start()` → first
 * answer → `stop()` (and mockttp with its CA reused), alternating in one process on one machine.
 * The client is an undici ProxyAgent trusting the proxy's CA (wsgiprox's handle makes its own).
 *
 * Run: `node --import tsx bench/start-stop.ts [--quick]`; writes bench/results/start-stop.json.
 */
import { ProxyAgent, request } from 'undici'
import type { Dispatcher } from 'undici'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CertificateAuthority } from '../src/ca/authority'
import { startProxy } from '../src/testing/start-proxy'
import { percentile, round } from './ca'

const HERE = dirname(fileURLToPath(import.meta.url))
const RESULTS = join(HERE, 'results', 'start-stop.json')
const URL_ASKED = 'https://api.example.com/v1/user'
const hello = () => new Response('hello world\n')

/** One way of getting a proxy up, answered and down: resolves when it is down. */
type Cycle = () => Promise<void>

/** One measured row. */
export interface StartStopRow {
  name: string
  samples: number
  medianMs: number
  p90Ms: number
  /** Median CPU time of this process (server and client) per cycle. */
  cpuMs: number
  /** medianMs divided by mockttp's with a new CA (NaN without mockttp). */
  ratioToMockttp: number
}

/** GET the URL through `dispatcher` and read the whole body; throws unless it is 200. */
async function firstAnswer(dispatcher: Dispatcher): Promise<void> {
  const { statusCode, body } = await request(URL_ASKED, { dispatcher })
  await body.text()
  if (statusCode !== 200) {
    throw new Error(`status ${statusCode}`)
  }
}

const wsgiprox =
  (ca?: CertificateAuthority): Cycle =>
  async () => {
    const proxy = await startProxy(hello, ca ? { ca } : {})
    await firstAnswer(proxy.dispatcher)
    await proxy.close()
  }

interface Mockttp {
  getLocal(options: { https: { key: string; cert: string } }): {
    start(port?: number): Promise<void>
    stop(): Promise<void>
    port: number
    forGet(url: string): { thenReply(status: number, body: string): Promise<unknown> }
  }
  generateCACertificate(): Promise<{ key: string; cert: string }>
}

/** mockttp from bench/peers (installed by `npm run bench`), or undefined when it is not there. */
async function loadMockttp(): Promise<Mockttp | undefined> {
  const peers = join(HERE, 'peers', 'package.json')
  if (!existsSync(join(HERE, 'peers', 'node_modules', 'mockttp'))) {
    return undefined
  }
  const entry = createRequire(peers).resolve('mockttp')
  return (await import(pathToFileURL(entry).href)) as Mockttp
}

const mockttp =
  (lib: Mockttp, reused?: { key: string; cert: string }): Cycle =>
  async () => {
    const ca = reused ?? (await lib.generateCACertificate())
    const server = lib.getLocal({ https: ca })
    await server.start()
    await server.forGet(URL_ASKED).thenReply(200, 'hello world\n')
    // mockttp's url is https://localhost:PORT; the same port speaks plain HTTP proxying too.
    const uri = `http://127.0.0.1:${server.port}`
    const dispatcher = new ProxyAgent({ uri, requestTls: { ca: ca.cert } })
    await firstAnswer(dispatcher)
    await dispatcher.close()
    await server.stop()
  }

/** Run the benchmark; prints a table and writes bench/results/start-stop.json. */
export async function runStartStopBench(quick: boolean): Promise<StartStopRow[]> {
  const samples = quick ? 8 : 40
  const lib = await loadMockttp()
  const cycles: [string, Cycle][] = [
    ['wsgiprox startProxy, new in-memory CA', wsgiprox()],
    ['wsgiprox startProxy, CA reused', wsgiprox(await CertificateAuthority.open({ file: null }))],
  ]
  if (lib) {
    cycles.push(['mockttp getLocal, new CA', mockttp(lib)])
    cycles.push(['mockttp getLocal, CA reused', mockttp(lib, await lib.generateCACertificate())])
  }
  // Warm-up (JIT, the modules' first loads), then the systems in turn, so drift hits all alike.
  for (const [, cycle] of cycles) {
    for (let i = 0; i < 3; i++) {
      await cycle()
    }
  }
  const times = cycles.map(() => [] as number[])
  const cpu = cycles.map(() => [] as number[])
  for (let i = 0; i < samples; i++) {
    for (const [index, [, cycle]] of cycles.entries()) {
      const start = performance.now()
      const startCpu = process.cpuUsage()
      await cycle()
      times[index]?.push(performance.now() - start)
      const used = process.cpuUsage(startCpu)
      cpu[index]?.push((used.user + used.system) / 1000)
    }
  }
  const base = lib ? percentile(times[2] ?? [], 0.5) : NaN
  const rows = cycles.map(([name], index) => {
    const t = times[index] ?? []
    const median = percentile(t, 0.5)
    return {
      name,
      samples: t.length,
      medianMs: round(median),
      p90Ms: round(percentile(t, 0.9)),
      cpuMs: round(percentile(cpu[index] ?? [], 0.5)),
      ratioToMockttp: round(median / base),
    }
  })
  process.stdout.write(table(rows, quick))
  await mkdir(dirname(RESULTS), { recursive: true })
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`
  const result = {
    bench: 'start-stop',
    date: new Date().toISOString(),
    node: process.version,
    cpu: machine,
  }
  await writeFile(RESULTS, `${JSON.stringify({ ...result, quick, rows }, null, 2)}\n`)
  return rows
}

function table(rows: StartStopRow[], quick: boolean): string {
  const lines = rows.map(
    (r) =>
      `${r.name.padEnd(40)} ${String(r.medianMs).padStart(9)} ${String(r.p90Ms).padStart(8)} ${String(r.cpuMs).padStart(8)} ${String(r.ratioToMockttp).padStart(13)}`
  )
  return [
    `start → first HTTPS answer → stop (${process.version}${quick ? ', quick' : ''})`,
    `${'cycle'.padEnd(40)} ${'median ms'.padStart(9)} ${'p90 ms'.padStart(8)} ${'CPU ms'.padStart(8)} ${'x mockttp new'.padStart(13)}`,
    ...lines,
    '',
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runStartStopBench(process.argv.includes('--quick'))
}
