/**
 * wsgiprox on `node:cluster` through its public `runCluster`, for the `wsgiprox-2w` systems:
 * the same app and options as `wsgiprox`, in `workers` processes sharing the port and one CA
 * file in a temporary folder. The primary answers the harness's stats with the sum over itself
 * and every worker, so CPU per operation counts all the processes that served.
 */
import cluster from 'node:cluster'
import type { Worker } from 'node:cluster'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBenchApp } from './app'
import { readStats, start } from './protocol'
import type { Stats, StatsRequest } from './protocol'

/** Where the primary puts the CA (and the certsDir) for its workers, which inherit its env. */
const DIR_ENV = 'WSGIPROX_BENCH_DIR'

interface StatsMessage {
  benchStats: StatsRequest | Stats
}

export interface ClusterSystem {
  workers: number
  /** Share issued certificates between the workers through `ca.certsDir`. */
  certsDir: boolean
  /**
   * Who hands connections to workers: the primary in turn (`rr`, Node's default on Linux), or
   * the kernel to whichever worker accepts first (`none`).
   */
  policy?: 'rr' | 'none'
}

export function startCluster({ workers, certsDir, policy = 'rr' }: ClusterSystem): void {
  if (cluster.isPrimary) {
    cluster.schedulingPolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE
    process.env[DIR_ENV] = mkdtempSync(join(tmpdir(), 'wsgiprox-bench-'))
    start(() => run(workers, certsDir), clusterStats)
    return
  }
  process.on('message', (message: Partial<StatsMessage>) => {
    const request = message.benchStats
    if (request && !('cpuUs' in request)) {
      void readStats(request).then((stats) => process.send?.({ benchStats: stats }))
    }
  })
  void run(workers, certsDir)
}

async function run(workers: number, certsDir: boolean) {
  // Imported at run time, as bench/servers/wsgiprox.ts does, so a missing API makes this system
  // unavailable instead of stopping the benchmark.
  const { createProxy, runCluster } = await import('wsgiprox')
  const dir = process.env[DIR_ENV] ?? '.'
  const ca = {
    file: join(dir, 'wsgiprox-ca.pem'),
    ...(certsDir && { certsDir: join(dir, 'certs') }),
  }
  const running = await runCluster(
    () => createProxy(createBenchApp(), { ca }).listen(0, '127.0.0.1'),
    { workers, ca }
  )
  const { CertificateAuthority } = await import('wsgiprox')
  return {
    proxy: true,
    port: running.address.port,
    caPem: (await CertificateAuthority.open({ file: ca.file })).certPem,
    websocket: true,
    note: `${running.workers} workers (node:cluster)${certsDir ? ', shared certsDir' : ''}`,
  }
}

/** The primary's own stats plus every worker's. */
async function clusterStats(request: StatsRequest): Promise<Stats> {
  const workers = Object.values(cluster.workers ?? {}).filter(
    (worker): worker is Worker => worker !== undefined
  )
  const replies = await Promise.all([readStats(request), ...workers.map((w) => ask(w, request))])
  return replies.reduce((sum, stats) => ({
    ...sum,
    rss: sum.rss + stats.rss,
    heapUsed: sum.heapUsed + stats.heapUsed,
    cpuUs: sum.cpuUs + stats.cpuUs,
  }))
}

function ask(worker: Worker, request: StatsRequest): Promise<Stats> {
  return new Promise((resolve) => {
    const onMessage = (message: Partial<StatsMessage>) => {
      const reply = message.benchStats
      if (reply && 'cpuUs' in reply && reply.id === request.id) {
        worker.off('message', onMessage)
        resolve(reply)
      }
    }
    worker.on('message', onMessage)
    worker.send({ benchStats: request })
  })
}
