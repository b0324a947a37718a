/**
 * `direct-fetch`: the bare Fetch handler of `wsgiprox-fetch` on node-server with no proxy, with
 * the path a proxy's app sees: the floor under `wsgiprox-fetch`.
 */
import { bareHandler } from './app'
import { startFullPath } from './fullpath'

startFullPath(bareHandler, 'n/a: no WebSocket route')
