/**
 * `wsgiprox-fetch`: `wsgiprox` serving a bare `(request) => new Response(...)` handler, no
 * framework: what is left is the proxy's own work and node-server's.
 */
import { bareHandler } from './app'
import { startWsgiprox } from './wsgiprox-start'

startWsgiprox(() => bareHandler, 'n/a: the bare handler has no WebSocket route')
