/**
 * `runCluster`: the proxy on every core with `node:cluster`. Workers share the listening port
 * and one CA file; a worker that dies is replaced, with backoff while they keep dying; stopping
 * lets the requests in flight finish.
 * @module
 */
import cluster from 'node:cluster'
import type { Worker } from 'node:cluster'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism } from 'node:os'
import { CertificateAuthority } from '../ca/authority'
import type { CaOptions } from '../ca/authority'
import { OptionsError, WorkerStartError } from '../errors'
import { isMessage, send } from './messages'
import { startReplacing } from './replacement'
import { runWorker } from './worker'

/** Defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = {
  workers: 'auto',
  shutdownTimeoutMs: 10_000,
  handleSignals: true,
  exitWorkers: true,
} as const

/** The first replacement waits this long; each quick death in a row doubles it. */
const RESTART_MIN_DELAY_MS = 100
const RESTART_MAX_DELAY_MS = 30_000
/** A worker that lived this long was no crash loop: the next replacement starts at once again. */
const RESTART_STABLE_MS = 10_000
/** How long past its shutdown timeout a worker may take to exit before it is killed. */
const STOP_GRACE_MS = 2_000

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  /** How many workers: a number, or `'auto'` for one per core. @default 'auto' */
  workers?: number | 'auto'
  /**
   * The CA the workers use, opened (created when missing) once in the primary before any
   * worker starts, so that they do not each make a root key in a race. Give the workers the same
   * `ca` options: they then all sign with this CA.
   */
  ca?: CaOptions
  /** How long stopping waits for requests in flight before it cuts them. @default 10_000 */
  shutdownTimeoutMs?: number
  /** Told, in the primary, of workers listening and dying, and of stopping; nothing prints. */
  onEvent?: (event: ClusterEvent) => void
  /**
   * Whether SIGTERM and SIGINT call `stop()`, in the primary and in each worker. `false` leaves
   * signals to the program, which calls `stop()` itself when it wants to.
   * @default true
   */
  handleSignals?: boolean
  /**
   * Whether a worker ends its process with `process.exit(0)` once it has stopped. `false` leaves
   * the process to the program: the worker closes its server, lets go of the primary's channel
   * and `stop()` resolves; the process then ends when nothing else of the program keeps it.
   * @default true
   */
  exitWorkers?: boolean
}

/** What happens to the workers, as `ClusterOptions.onEvent` hears it. */
export type ClusterEvent =
  | { type: 'listening'; pid: number; address: AddressInfo }
  | {
      type: 'exit'
      pid: number
      code: number | null
      signal: string | null
      /** When its replacement starts. */
      restartInMs: number
    }
  | { type: 'stopping'; workers: number }

/** A running cluster, as seen from the primary or from one worker. */
export interface Cluster {
  role: 'primary' | 'worker'
  /** How many workers serve. */
  workers: number
  /** Where they listen. */
  address: AddressInfo
  /**
   * Stop gracefully. In the primary: every worker stops, and this resolves once all exited. In
   * a worker: the worker stops accepting, lets its requests finish (up to the shutdown timeout)
   * and exits with code 0 (see `exitWorkers`). SIGTERM and SIGINT call it too, unless
   * `handleSignals` is `false`.
   */
  stop: () => Promise<void>
}

/**
 * How the primary tells a replacement worker the port the cluster announced: `node:cluster`
 * shares a port 0 listener among workers only while one of them holds it, so once all have died
 * a new one would get another free port, and the announced one would refuse connections.
 */
const ANNOUNCED_PORT_ENV = 'WSGIPROX_CLUSTER_PORT'

/**
 * Run `start` in `workers` processes that share the port it listens on. Call it the same way
 * in every process, as `node:cluster` runs the same program in each: in the primary it opens
 * `ca`, starts the workers and resolves once all listen; in a worker it runs `start` (which
 * returns the listening server, as `proxy.listen()` does) and resolves. `start` gets the port
 * the cluster announced, once it has one: a worker that replaces dead ones must listen there,
 * which matters when the first ones listened on port 0. While workers started on port 0 still
 * hold it, listening there fails with EADDRINUSE, and `start` is called once more, without the
 * port, to join them.
 * @example
 * const ca = { file: './ca/wsgiprox-ca.pem' }
 * await runCluster((port) => createProxy(app, { ca }).listen(port ?? 0), { ca })
 */
export async function runCluster(
  start: (announcedPort: number | undefined) => Server | Promise<Server>,
  options: ClusterOptions = {}
): Promise<Cluster> {
  const workers = workerCount(options.workers ?? CLUSTER_DEFAULTS.workers)
  const handleSignals = options.handleSignals ?? CLUSTER_DEFAULTS.handleSignals
  const exitWorkers = options.exitWorkers ?? CLUSTER_DEFAULTS.exitWorkers
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? CLUSTER_DEFAULTS.shutdownTimeoutMs
  if (!Number.isFinite(shutdownTimeoutMs) || shutdownTimeoutMs < 0) {
    throw new OptionsError(
      `shutdownTimeoutMs must be a number of milliseconds >= 0, got ${String(shutdownTimeoutMs)}`
    )
  }
  if (cluster.isWorker) {
    let server: Server
    try {
      server = await startReplacing(start, Number(process.env[ANNOUNCED_PORT_ENV]))
    } catch (error) {
      // Let go of the primary so this worker can exit (the caller reports the error); the
      // primary then sees it die before it listened.
      cluster.worker?.disconnect()
      throw error
    }
    return runWorker(server, workers, { shutdownTimeoutMs, handleSignals, exitWorkers })
  }
  if (options.ca) {
    if (options.ca.file === null) {
      throw new OptionsError(
        'ca.file must name a file the workers share; null gives each its own CA'
      )
    }
    await CertificateAuthority.open(options.ca)
  }
  return runPrimary(workers, shutdownTimeoutMs, handleSignals, options.onEvent ?? (() => {}))
}

/**
 * How many workers `workers` means: `'auto'` is one per core (`os.availableParallelism()`).
 * Throws an `OptionsError` for anything but a whole number >= 1 or `'auto'`.
 */
export function workerCount(workers: number | 'auto'): number {
  if (workers === 'auto') {
    return availableParallelism()
  }
  if (!Number.isInteger(workers) || workers < 1) {
    throw new OptionsError(`workers must be a whole number >= 1 or 'auto', got ${String(workers)}`)
  }
  return workers
}

/** A failed message to a worker: its 'exit' tells the rest. */
const ignoreChannelError = (): undefined => undefined

function runPrimary(
  workers: number,
  shutdownTimeoutMs: number,
  handleSignals: boolean,
  onEvent: (event: ClusterEvent) => void
): Promise<Cluster> {
  return new Promise((resolve, reject) => {
    const restarts = new Set<NodeJS.Timeout>()
    const serving = new WeakSet<Worker>()
    let ready = false
    let stopping: Promise<void> | undefined
    let listening = 0
    let quickDeaths = 0
    let announcedPort: number | undefined

    const stop = () =>
      (stopping ??= (async () => {
        restarts.forEach(clearTimeout)
        const running = Object.values(cluster.workers ?? {}).filter(
          (worker): worker is Worker => worker !== undefined && !worker.isDead()
        )
        onEvent({ type: 'stopping', workers: running.length })
        const exited = running.map(exitOf)
        for (const worker of running) {
          if (serving.has(worker)) {
            send(worker, { wsgiprox: 'stop' })
          } else {
            // Still starting: it has no handler for the message yet, and nothing to finish.
            worker.process.kill('SIGTERM')
          }
        }
        const kill = setTimeout(() => {
          for (const worker of running) {
            worker.process.kill('SIGKILL')
          }
        }, shutdownTimeoutMs + STOP_GRACE_MS)
        await Promise.all(exited)
        clearTimeout(kill)
      })())

    const fork = () => {
      const worker = cluster.fork(
        announcedPort === undefined ? {} : { [ANNOUNCED_PORT_ENV]: String(announcedPort) }
      )
      const bornAt = Date.now()
      const pid = worker.process.pid ?? 0
      // Node's own messages to a worker that has just died fail on the closed channel (EPIPE),
      // and the Worker emits that as 'error': unheard, it would end the primary. The worker's
      // 'exit' below reports its end.
      worker.on('error', ignoreChannelError)
      worker.on('message', (message: unknown) => {
        if (!isMessage(message) || message.wsgiprox !== 'listening') {
          return
        }
        serving.add(worker)
        announcedPort ??= message.address.port
        onEvent({ type: 'listening', pid, address: message.address })
        if (!ready && ++listening === workers) {
          ready = true
          resolve({ role: 'primary', workers, address: message.address, stop })
        }
      })
      worker.on('exit', (code, signal) => {
        if (stopping) {
          return
        }
        if (!ready) {
          // A worker that cannot even start (a bad --app, a port in use) would only fail again.
          // The others serve nothing yet, and may not listen for a stop message: end them.
          stopping = Promise.resolve()
          for (const other of Object.values(cluster.workers ?? {})) {
            other?.process.kill('SIGTERM')
          }
          reject(new WorkerStartError(pid, code, signal))
          return
        }
        quickDeaths = Date.now() - bornAt < RESTART_STABLE_MS ? quickDeaths + 1 : 0
        const restartInMs =
          quickDeaths === 0
            ? 0
            : Math.min(RESTART_MAX_DELAY_MS, RESTART_MIN_DELAY_MS * 2 ** (quickDeaths - 1))
        onEvent({ type: 'exit', pid, code, signal, restartInMs })
        const timer = setTimeout(() => {
          restarts.delete(timer)
          fork()
        }, restartInMs)
        restarts.add(timer)
      })
    }

    if (handleSignals) {
      process.once('SIGTERM', () => void stop())
      process.once('SIGINT', () => void stop())
    }
    for (let i = 0; i < workers; i++) {
      fork()
    }
  })
}

function exitOf(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    worker.once('exit', () => {
      resolve()
    })
  })
}
