/**
 * `direct-hono`: the minimal Hono app of `wsgiprox-hono` on node-server with no proxy, with the
 * path a proxy's app sees: the floor under `wsgiprox-hono`.
 */
import { createMinimalApp } from './app'
import { startFullPath } from './fullpath'

startFullPath(createMinimalApp().fetch, 'n/a: no WebSocket route')
