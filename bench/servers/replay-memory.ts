/**
 * `replay-memory`: the baseline of the replay benchmark. The same bytes the replay serves (each
 * sampled URL's body and Content-Type, read once through the replay app at start), held in
 * memory and served by a plain Hono app behind the same proxy.
 */
import { Hono } from 'hono'
import { readFile } from 'node:fs/promises'
import type * as Wsgiprox from '../../src/index'
import type * as Replay from '../../src/replay/index'
import { listenProxy } from './listen-proxy'
import { start } from './protocol'

const BUILT = new URL('../../dist/', import.meta.url).href

start(async () => {
  const { createProxy } = (await import(`${BUILT}index.mjs`)) as typeof Wsgiprox
  const { openReplay } = (await import(`${BUILT}replay.mjs`)) as typeof Replay
  const replay = await openReplay([process.env.BENCH_REPLAY_FILE ?? ''])
  const sample = JSON.parse(
    await readFile(process.env.BENCH_REPLAY_SAMPLE ?? '', 'utf8')
  ) as string[]
  const name = replay.collections[0]?.name ?? ''
  const held = new Map<string, { body: Uint8Array<ArrayBuffer>; type: string }>()
  for (const url of sample) {
    const response = await replay.app(new Request(`http://wsgiprox/${name}/${url}`))
    held.set(url, {
      // Bytes, not an ArrayBuffer: node-server writes a Uint8Array body at once, where an
      // ArrayBuffer makes it build a full Response and read it as a stream.
      body: new Uint8Array(await response.arrayBuffer()),
      type: response.headers.get('content-type') ?? '',
    })
  }
  await replay.close()
  const app = new Hono()
  app.get('*', (c) => {
    const found = held.get(c.req.path.slice(1) + new URL(c.req.url).search)
    return found ? c.body(found.body, 200, { 'Content-Type': found.type }) : c.notFound()
  })
  const proxy = createProxy(app, { ca: { file: null } })
  return listenProxy(proxy, { websocket: false })
})
