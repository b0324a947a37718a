/**
 * The proxy under soak, in a process of its own so that its exit is seen (and counted) rather
 * than taking the soak down. It loads the built package, as users run it, with metrics on, and
 * tells the parent its port and CA over IPC. Asked with `{ type: 'errors' }`, it answers with
 * the first messages it was told of per phase, so the report can say what happened.
 */
import type { AddressInfo } from 'node:net'
import type * as Wsgiprox from '../../src/index'
import { createSoakApp } from './app'

const BUILT = new URL('../../dist/index.mjs', import.meta.url).href

/** Messages kept per phase: enough to name a problem, bounded for a long run. */
const KEEP_PER_PHASE = 5

const { createProxy } = (await import(BUILT)) as typeof Wsgiprox
const seen = new Map<string, string[]>()
const proxy = createProxy(createSoakApp(), {
  ca: { file: null },
  metrics: true,
  onError(error, { phase }) {
    const messages = seen.get(phase) ?? []
    if (messages.length < KEEP_PER_PHASE) {
      messages.push(error.message.slice(0, 200))
    }
    seen.set(phase, messages)
  },
})
const server = await proxy.listen(0, '127.0.0.1')
const ca = await proxy.getCertificateAuthority()
process.on('message', (message: { type?: string }) => {
  if (message.type === 'errors') {
    process.send?.({ type: 'errors', errors: Object.fromEntries(seen) })
  }
})
process.send?.({
  type: 'ready',
  port: (server.address() as AddressInfo).port,
  caPem: ca.certPem,
})
