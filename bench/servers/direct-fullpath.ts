/**
 * `direct-fullpath`: `direct` with the request's path made the one a proxy's app sees (SPEC.md:
 * `/http://example.com/` for `GET /` on example.com) before node-server reads it, and nothing
 * else. The floor of a Fetch-app proxy that follows the SPEC's URL shape: between `direct` and
 * it is what the longer path costs node-server's checks and the app's router; between it and
 * `wsgiprox` is what the proxy's own work costs (admission, the rewrite, the response guard).
 * Not in the default systems: `--systems direct,direct-fullpath,wsgiprox`.
 */
import { getRequestListener } from '@hono/node-server'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createSecureServer } from 'node:https'
import { createBenchApp } from './app'
import { listenOrigin } from './origin'
import { start } from './protocol'

start(() => {
  const listener = getRequestListener(createBenchApp().fetch)
  const fullPath = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
    req.url = `/${scheme}://${req.headers.host ?? 'example.com'}${req.url ?? '/'}`
    void listener(req, res)
  }
  return listenOrigin((cert) => ({
    plain: createServer(fullPath('http')),
    secure: createSecureServer({ cert: cert.certPem, key: cert.keyPem }, fullPath('https')),
  }))
})
