import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Wsgiprox from '../../src/index'
import type { App } from '../../src/index'
import { listenProxy } from './listen-proxy'
import { start } from './protocol'

/** `BENCH_WSGIPROX_DIST=DIR` loads another build (a copy of `dist/`), to count two side by side. */
const BUILT = process.env.BENCH_WSGIPROX_DIST
  ? pathToFileURL(join(process.env.BENCH_WSGIPROX_DIST, 'index.mjs')).href
  : new URL('../../dist/index.mjs', import.meta.url).href

/**
 * Starts this project's proxy from the built package (`dist/`), as users run it: the TypeScript
 * sources under tsx carry esbuild's keep-names wrappers, a per-closure cost that the peers, all
 * plain JavaScript, do not pay. By path, since bench/ is a package of its own, where the name
 * `wsgiprox` does not refer to this project. `websocket` says whether the app answers W5.
 * `BENCH_WSGIPROX_SOCKS=0` starts it with `socks: false`, to measure what the accept path's look
 * at each connection's first byte costs W1 and W3. `BENCH_WSGIPROX_METRICS=1` starts it with
 * `metrics: true`, to measure what counting every request costs.
 */
export function startWsgiprox(app: () => App, websocket: boolean | string): void {
  start(async () => {
    // Imported at run time so that a proxy still being written makes this system
    // `unavailable: <error>` instead of stopping the whole benchmark.
    const { createProxy } = (await import(BUILT)) as typeof Wsgiprox
    const socks = process.env.BENCH_WSGIPROX_SOCKS !== '0'
    const metrics = process.env.BENCH_WSGIPROX_METRICS === '1'
    const proxy = createProxy(app(), { ca: { file: null }, socks, metrics })
    return listenProxy(proxy, { websocket, h2: true, socks })
  })
}
