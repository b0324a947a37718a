/**
 * `wsgiprox --workers N|auto`: the serve command on `node:cluster`. The primary opens the CA,
 * starts the workers, prints the banner once they all listen and logs what happens to them;
 * each worker runs the same command line and serves.
 * @module
 */
import cluster from 'node:cluster'
import type { Server } from 'node:http'
import { Writable } from 'node:stream'
import { CertificateAuthority } from '../ca/authority'
import type { CaOptions } from '../ca/authority'
import { runCluster } from '../cluster/cluster'
import type { ClusterEvent } from '../cluster/cluster'
import { WorkerStartError } from '../errors'
import type { Io } from './io'
import { reportError, ReportedError, UsageError } from './io'
import { shutdownTimeoutMs } from './shutdown'

/** What `serveWorkers` needs from the serve command. */
export interface WorkersPlan {
  workers: number | 'auto'
  /** `--shutdown-timeout`, in seconds. */
  shutdownTimeout: string
  ca: CaOptions
  /** Starts one proxy; runs in each worker, on the port the cluster announced once it has. */
  start: (announcedPort: number | undefined) => Promise<Server>
  /** The banner, once the cluster's `workers` all listen on `port`. */
  banner: (port: number, ca: CertificateAuthority, workers: number) => string
}

/**
 * `--workers`: a whole number >= 1, or `auto`, which `runCluster` counts (one per core), as it
 * does for a program.
 */
export function workersOption(value: string): number | 'auto' {
  if (value === 'auto') {
    return value
  }
  const workers = Number(value)
  if (!/^\d+$/.test(value) || workers < 1) {
    throw new UsageError(`--workers must be a number >= 1 or auto, got ${JSON.stringify(value)}`)
  }
  return workers
}

/** Run the proxy in `plan.workers` processes; resolves with a function that stops them all. */
export async function serveWorkers(plan: WorkersPlan, io: Io): Promise<() => Promise<void>> {
  const seconds = shutdownTimeoutMs(plan.shutdownTimeout) / 1000
  // Opened before any worker starts: the workers then all read one CA instead of racing to
  // create one each.
  const ca = cluster.isPrimary ? await CertificateAuthority.open(plan.ca) : undefined
  let announced = false
  // Workers that fail to start tell the primary why, and the primary says it once: the workers
  // of one batch fail for one cause (a bad --app, a port in use), and the primary stops the rest
  // as soon as one dies, before each could say it.
  let told = false
  const onWorkerMessage = (_worker: unknown, message: unknown) => {
    const failed = message as { wsgiprox?: unknown; text?: unknown } | null
    if (!told && failed?.wsgiprox === 'start-failed' && typeof failed.text === 'string') {
      told = true
      io.stderr.write(failed.text)
    }
  }
  cluster.on('message', onWorkerMessage)
  const running = await runCluster(plan.start, {
    workers: plan.workers,
    shutdownTimeoutMs: seconds * 1000,
    onEvent: (event) => {
      if (announced || event.type !== 'listening') {
        io.stderr.write(`wsgiprox: ${describe(event, seconds)}\n`)
      }
    },
  })
    .catch((error: unknown) => {
      // A worker that exited with a code has told why (a bad --app, a port in use): exit as it
      // did, without a second line. One killed by a signal told nothing: say so.
      if (error instanceof WorkerStartError && error.exitCode !== null) {
        throw new ReportedError(error.exitCode)
      }
      if (cluster.isWorker && process.send) {
        let text = ''
        const code = reportError(
          error,
          { stdout: io.stdout, stderr: collect((chunk) => (text += chunk)) },
          'wsgiprox'
        )
        process.send({ wsgiprox: 'start-failed', text })
        throw new ReportedError(code)
      }
      throw error
    })
    .finally(() => {
      cluster.off('message', onWorkerMessage)
    })
  if (ca) {
    io.stdout.write(plan.banner(running.address.port, ca, running.workers))
    announced = true
  }
  return running.stop
}

function describe(event: ClusterEvent, seconds: number): string {
  switch (event.type) {
    case 'listening':
      return `worker ${event.pid} listening`
    case 'exit': {
      const how = event.signal === null ? `with code ${String(event.code)}` : `on ${event.signal}`
      return `worker ${event.pid} exited ${how}; starting another in ${event.restartInMs} ms`
    }
    case 'stopping':
      return `stopping ${event.workers} worker${event.workers === 1 ? '' : 's'}; requests in flight have ${seconds} s to finish`
  }
}

/** A stream whose writes go to `take`, for a line to send rather than print. */
function collect(take: (chunk: string) => void): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      take(String(chunk))
      done()
    },
  })
}
