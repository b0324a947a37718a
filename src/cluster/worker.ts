/**
 * A cluster's worker: it tells the primary where it listens, and stops (on the primary's message
 * or a signal) by draining its server, then exits, unless the program keeps its process.
 * @module
 */
import cluster from 'node:cluster'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { drainable } from './drain'
import { isMessage, send } from './messages'

/** How a worker stops. */
export interface WorkerStop {
  shutdownTimeoutMs: number
  handleSignals: boolean
  exitWorkers: boolean
}

/** A running worker, as `runCluster` resolves in it (its `Cluster`). */
export interface RunningWorker {
  role: 'worker'
  workers: number
  address: AddressInfo
  stop: () => Promise<void>
}

export function runWorker(server: Server, workers: number, how: WorkerStop): RunningWorker {
  const { drain } = drainable(server)
  let stopping: Promise<void> | undefined
  const onMessage = (message: unknown) => {
    if (isMessage(message) && message.wsgiprox === 'stop') {
      void stop()
    }
  }
  const onSignal = () => void stop()
  const stop = () =>
    (stopping ??= drain(how.shutdownTimeoutMs).then(() => {
      // The worker exists to serve: once it has stopped serving (or its time is up, cutting
      // what is left, WebSockets included), it ends, as the primary expects.
      if (how.exitWorkers) {
        // eslint-disable-next-line n/no-process-exit
        process.exit(0)
      }
      // The program keeps its process: let go of what runCluster holds, and of the primary,
      // which then sees this worker exit when the program is done.
      process.off('message', onMessage)
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      cluster.worker?.disconnect()
    }))
  process.on('message', onMessage)
  if (how.handleSignals) {
    // A terminal's Ctrl-C and systemd's stop signal the workers too: they drain rather than die.
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  }
  const address = server.address() as AddressInfo
  send(process, { wsgiprox: 'listening', address })
  return { role: 'worker', workers, address, stop }
}
