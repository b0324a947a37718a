/**
 * `wsgiprox-hono`: `wsgiprox` serving the app a user's benchmark most likely has, one
 * `app.all('*')` route (no WebSocket echo, so no regular expression over the long path).
 */
import { createMinimalApp } from './app'
import { startWsgiprox } from './wsgiprox-start'

startWsgiprox(createMinimalApp, 'n/a: the minimal app has no WebSocket route')
