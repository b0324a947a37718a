/**
 * Replay costs against their baselines, in one run on one machine, over an archive written
 * with warcio (at least 200 MB; small with --quick):
 * - index time: opening the archive with `wsgiprox/replay` against warcio's own CDX indexer
 *   over the same file (target: within 1.5x);
 * - index memory per capture, in a process of its own (target: under 200 bytes);
 * - replay throughput through the proxy against the same bytes served from memory by a plain
 *   Hono app behind the same proxy (target: at least 0.8x), over a sample of 256 URLs asked for
 *   again and again (as a site's pages ask for its shared assets), and over every URL of the
 *   archive in turn, so that nearly every request misses the replay's answer cache.
 *
 * Run: `node --import tsx bench/replay.ts [--quick]` after `tsdown` (npm run bench does both);
 * writes bench/results/replay.json.
 */
import { CDXIndexer } from 'warcio'
import { execFile } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type * as Replay from '../src/replay/index'
import { writeBenchArchive } from './replay-archive'
import { replayLoad } from './replay-load'
import type { SystemHandle } from './systems'
import { SERVER_NODE, startSystem } from './systems'

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'replay.json')
const BUILT = new URL('../dist/replay.mjs', import.meta.url).href
const MB = 1024 * 1024

const PROFILES = {
  full: { archiveBytes: 200 * MB, indexRounds: 3, slices: 12, seconds: 2, warmSeconds: 2 },
  quick: { archiveBytes: 3 * MB, indexRounds: 1, slices: 2, seconds: 0.5, warmSeconds: 0.25 },
}

/** What runReplayBench measured, as written to bench/results/replay.json. */
export interface ReplayBenchResult {
  bench: 'replay'
  date: string
  node: string
  cpu: string
  quick: boolean
  archive: { bytes: number; responses: number }
  index: { oursMs: number[]; warcioMs: number[]; ratio: number }
  memory: MemoryResult
  /**
   * `ratio`: requests per second, archive over memory, the median of the slices' pairs
   * (`pairRatios`); `cpuRatio`: median CPU per request, memory over archive.
   */
  throughput: {
    archive: Rate
    memory: Rate
    ratio: number
    pairRatios: number[]
    cpuRatio: number
    /** Every URL in turn: the answer cache nearly never helps. */
    archiveCold: Rate
    coldRatio: number
  }
}

interface MemoryResult {
  captures: number
  /** Heap and array buffers retained per capture after a full GC. */
  heapBytesPerCapture: number
  /** RSS growth per capture after a full GC. */
  rssBytesPerCapture: number
  /** What the index's columns hold, per capture. */
  columnBytesPerCapture: number
}

interface Rate {
  requestsPerSecond: number
  mbPerSecond: number
  /** The server process's CPU time per request: steadier than rates on a shared machine. */
  serverCpuUsPerRequest: number
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN
const round = (value: number) => Number(value.toPrecision(4))

/** Runs the replay benchmark and returns (and by default prints and writes) its figures. */
export async function runReplayBench(quick = false): Promise<ReplayBenchResult> {
  const profile = PROFILES[quick ? 'quick' : 'full']
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-replay-bench-'))
  try {
    const archive = await writeBenchArchive(join(dir, 'bench.warc.gz'), profile.archiveBytes)
    const sampleFile = join(dir, 'sample.json')
    await writeFile(sampleFile, JSON.stringify(archive.sample))
    const index = await indexTimes(archive.file, profile.indexRounds)
    const memory = await indexMemory(archive.file)
    const throughput = await throughputs(archive.file, sampleFile, archive, profile)
    const result: ReplayBenchResult = {
      bench: 'replay',
      date: new Date().toISOString(),
      node: process.version,
      cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
      quick,
      archive: { bytes: archive.bytes, responses: archive.responses },
      index,
      memory,
      throughput,
    }
    process.stdout.write(table(result))
    await mkdir(dirname(RESULTS), { recursive: true })
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`)
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Our index (opening the archive) against warcio's CDX indexer, alternating, same file. */
async function indexTimes(file: string, rounds: number): Promise<ReplayBenchResult['index']> {
  const { openCollection } = (await import(BUILT)) as typeof Replay
  const ours: number[] = []
  const theirs: number[] = []
  // The file into the page cache, and both indexers' code warm, before anything is timed.
  await warcioIndex(file)
  await (await openCollection(file, () => undefined)).close()
  for (let round = 0; round < rounds; round++) {
    let start = performance.now()
    const collection = await openCollection(file, () => undefined)
    ours.push(performance.now() - start)
    await collection.close()
    start = performance.now()
    await warcioIndex(file)
    theirs.push(performance.now() - start)
  }
  return {
    oursMs: ours.map(round),
    warcioMs: theirs.map(round),
    ratio: round(median(ours) / median(theirs)),
  }
}

async function warcioIndex(file: string): Promise<number> {
  const indexer = new CDXIndexer({ format: 'cdxj' })
  const lines: unknown[] = []
  for await (const cdx of indexer.iterIndex([{ filename: file, reader: createReadStream(file) }])) {
    lines.push(cdx)
  }
  return lines.length
}

/** The index's memory, measured in a fresh process (this file with --memory). */
async function indexMemory(file: string): Promise<MemoryResult> {
  const self = fileURLToPath(import.meta.url)
  const { stdout } = await promisify(execFile)(
    SERVER_NODE,
    ['--expose-gc', '--import', 'tsx', self, '--memory', file],
    { maxBuffer: MB }
  )
  return JSON.parse(stdout) as MemoryResult
}

async function measureMemory(file: string): Promise<void> {
  const { openCollection } = (await import(BUILT)) as typeof Replay
  // Several collections with pauses between: array buffers are released after their
  // finalizers run, and two back-to-back collections left a 200 MB archive's garbage counted.
  const settle = async () => {
    for (let pass = 0; pass < 4; pass++) {
      globalThis.gc?.()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const { rss, heapUsed, arrayBuffers } = process.memoryUsage()
    return { rss, heap: heapUsed + arrayBuffers }
  }
  // Index once and let it go: what indexing grows and keeps for any archive (V8's young
  // generation, code, warcio's buffers) is then in the baseline, and the difference is the index.
  await (await openCollection(file, () => undefined)).close()
  const before = await settle()
  const collection = await openCollection(file, () => undefined)
  const after = await settle()
  const captures = collection.index.size
  const result: MemoryResult = {
    captures,
    heapBytesPerCapture: round((after.heap - before.heap) / captures),
    rssBytesPerCapture: round((after.rss - before.rss) / captures),
    columnBytesPerCapture: round(collection.index.byteLength / captures),
  }
  process.stdout.write(JSON.stringify(result))
  await collection.close()
}

/**
 * Requests per second through the proxy, the archive against the in-memory app. Both servers
 * stay up and are loaded in turn, in short slices (memory, archive, archive, memory, ...): on a
 * shared or virtual machine the speed of the CPU drifts by a third within a minute, and slices
 * this short see the same drift on both sides. The ratio is the median of each pair's ratio.
 */
async function throughputs(
  file: string,
  sampleFile: string,
  { sample, urls }: { sample: string[]; urls: string[] },
  profile: (typeof PROFILES)['full']
): Promise<ReplayBenchResult['throughput']> {
  process.env.BENCH_REPLAY_FILE = file
  process.env.BENCH_REPLAY_SAMPLE = sampleFile
  const measure = async (system: SystemHandle, list: string[], seconds: number): Promise<Rate> => {
    const before = await system.stats()
    const load = await replayLoad(system.port, list, seconds)
    const after = await system.stats()
    return {
      requestsPerSecond: load.requests / load.seconds,
      mbPerSecond: load.bytes / MB / load.seconds,
      serverCpuUsPerRequest: (after.cpuUs - before.cpuUs) / load.requests,
    }
  }
  const memory = await startSystem('replay-memory')
  const archive = await startSystem('replay-archive').catch(async (error: unknown) => {
    await memory.stop()
    throw error
  })
  try {
    const rates = { archive: [] as Rate[], memory: [] as Rate[] }
    const pairs: number[] = []
    for (const system of [memory, archive]) {
      await replayLoad(system.port, sample, profile.warmSeconds)
    }
    for (let slice = 0; slice < profile.slices; slice++) {
      const order = slice % 2 === 0 ? ([memory, archive] as const) : ([archive, memory] as const)
      const [first, second] = [
        await measure(order[0], sample, profile.seconds),
        await measure(order[1], sample, profile.seconds),
      ]
      const [ofMemory, ofArchive] = order[0] === memory ? [first, second] : [second, first]
      rates.memory.push(ofMemory)
      rates.archive.push(ofArchive)
      pairs.push(ofArchive.requestsPerSecond / ofMemory.requestsPerSecond)
    }
    // Every URL in turn, each connection starting elsewhere in the list: few requests repeat.
    const archiveCold = await measure(archive, urls, profile.seconds * 2)
    const memoryRate = pick(rates.memory)
    const archiveRate = pick(rates.archive)
    return {
      archive: archiveRate,
      memory: memoryRate,
      ratio: round(median(pairs)),
      pairRatios: pairs.map(round),
      cpuRatio: round(memoryRate.serverCpuUsPerRequest / archiveRate.serverCpuUsPerRequest),
      archiveCold: pick([archiveCold]),
      coldRatio: round(archiveCold.requestsPerSecond / memoryRate.requestsPerSecond),
    }
  } finally {
    await Promise.all([memory.stop(), archive.stop()])
  }
}

function pick(list: Rate[]): Rate {
  return {
    requestsPerSecond: round(median(list.map((r) => r.requestsPerSecond))),
    mbPerSecond: round(median(list.map((r) => r.mbPerSecond))),
    serverCpuUsPerRequest: round(median(list.map((r) => r.serverCpuUsPerRequest))),
  }
}

function table(r: ReplayBenchResult): string {
  const mb = (r.archive.bytes / MB).toFixed(0)
  return [
    `Replay bench (${r.node}, ${r.cpu}${r.quick ? ', quick' : ''}): ${mb} MB archive, ${r.archive.responses} captures`,
    `  index: ${median(r.index.oursMs).toFixed(0)} ms against warcio's indexer ${median(r.index.warcioMs).toFixed(0)} ms: ${r.index.ratio}x (target <= 1.5x)`,
    `  index memory per capture: ${r.memory.heapBytesPerCapture} B heap, ${r.memory.rssBytesPerCapture} B RSS, ${r.memory.columnBytesPerCapture} B in columns (target < 200 B)`,
    `  replay through the proxy: ${r.throughput.archive.requestsPerSecond.toFixed(0)} req/s (${r.throughput.archive.mbPerSecond.toFixed(1)} MB/s) against the in-memory app ${r.throughput.memory.requestsPerSecond.toFixed(0)} req/s: ${r.throughput.ratio}x (target >= 0.8x; median of ${r.throughput.pairRatios.length} pairs of slices, ${Math.min(...r.throughput.pairRatios)}x to ${Math.max(...r.throughput.pairRatios)}x)`,
    `  every URL in turn (answer cache missed): ${r.throughput.archiveCold.requestsPerSecond.toFixed(0)} req/s, ${r.throughput.archiveCold.serverCpuUsPerRequest.toFixed(0)} us CPU per request: ${r.throughput.coldRatio}x the in-memory app`,
    `  server CPU per request: ${r.throughput.archive.serverCpuUsPerRequest.toFixed(0)} us replaying against ${r.throughput.memory.serverCpuUsPerRequest.toFixed(0)} us from memory: ${r.throughput.cpuRatio}x as fast`,
    '',
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const memoryAt = process.argv.indexOf('--memory')
  const file = process.argv[memoryAt + 1]
  if (memoryAt !== -1 && file) {
    await measureMemory(file)
  } else {
    await runReplayBench(process.argv.includes('--quick'))
  }
}
