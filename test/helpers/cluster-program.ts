/**
 * A program of a user's own on `runCluster` that keeps signals and the process to itself
 * (`handleSignals: false`, `exitWorkers: false`): its primary stops the cluster from its own
 * SIGTERM handler and says so, and each worker sets an exit code of its own, which the primary
 * prints as it sees each worker exit. `WSGIPROX_TEST_DEFAULTS=1` runs it with runCluster's
 * defaults instead, for comparison; `WSGIPROX_TEST_CHANNEL_ERROR=1` has each worker report a
 * failed message on its channel.
 */
import cluster from 'node:cluster'
import { createProxy, runCluster } from '../../src/index'

const defaults = process.env.WSGIPROX_TEST_DEFAULTS === '1'
const ca = { file: process.env.WSGIPROX_TEST_CA ?? '' }
const options = defaults
  ? { ca, workers: 2 }
  : { ca, workers: 2, handleSignals: false, exitWorkers: false }
if (cluster.isPrimary) {
  cluster.on('exit', (_worker, code) => {
    process.stdout.write(`worker exited with code ${String(code)}\n`)
  })
  if (process.env.WSGIPROX_TEST_CHANNEL_ERROR === '1') {
    // What the Worker emits when one of Node's own messages meets a worker that has just died.
    cluster.on('online', (worker) => {
      worker.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    })
  }
}
const running = await runCluster(
  (port) => createProxy(() => new Response('ok\n'), { ca }).listen(port ?? 0, '127.0.0.1'),
  options
)
if (running.role === 'worker') {
  // Ends the process with 7, unless runCluster ends it first (its default: process.exit(0)).
  process.exitCode = 7
} else {
  process.stdout.write(`SIGTERM listeners: ${process.listenerCount('SIGTERM')}\n`)
  process.once('SIGTERM', () => {
    process.stdout.write('own handler: stopping\n')
    void running.stop().then(() => {
      process.stdout.write('own handler: stopped\n')
    })
  })
  process.stdout.write(`listening on http://127.0.0.1:${running.address.port}\n`)
}
