/**
 * `replay-archive`: `wsgiprox replay` as a library user runs it, over the archive in
 * BENCH_REPLAY_FILE, from the built package (`dist/`), with an in-memory CA.
 */
import type * as Wsgiprox from '../../src/index'
import type * as Replay from '../../src/replay/index'
import { listenProxy } from './listen-proxy'
import { start } from './protocol'

const BUILT = new URL('../../dist/', import.meta.url).href

start(async () => {
  const { createProxy } = (await import(`${BUILT}index.mjs`)) as typeof Wsgiprox
  const { openReplay } = (await import(`${BUILT}replay.mjs`)) as typeof Replay
  const replay = await openReplay([process.env.BENCH_REPLAY_FILE ?? ''])
  const proxy = createProxy(replay.app, { ca: { file: null }, resolver: replay.resolver })
  return listenProxy(proxy, { websocket: false })
})
