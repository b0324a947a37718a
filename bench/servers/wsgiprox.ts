/**
 * `wsgiprox`: this project through its public API, serving the bench app (with its WebSocket
 * echo) for every proxied host, with an in-memory CA (see `startWsgiprox`).
 */
import { createBenchApp } from './app'
import { startWsgiprox } from './wsgiprox-start'

startWsgiprox(createBenchApp, true)
