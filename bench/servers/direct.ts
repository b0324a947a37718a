/**
 * `direct`: the bench app on @hono/node-server with no proxy, over plain HTTP and over
 * node:https and node:http2 (a certificate for example.com of the proxy's key types). The limit a Fetch-app
 * proxy can reach: every proxy's ratio to it is the main figure.
 */
import { createAdaptorServer } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import { createSecureServer } from 'node:http2'
import { createServer } from 'node:https'
import { createBenchApp } from './app'
import { listenOrigin } from './origin'
import { start } from './protocol'

start(() => {
  const app = createBenchApp()
  return listenOrigin((cert) => ({
    plain: createAdaptorServer({ fetch: app.fetch }),
    secure: createAdaptorServer({
      fetch: app.fetch,
      createServer,
      serverOptions: { cert: cert.certPem, key: cert.keyPem },
      websocket: { server: new WebSocketServer({ noServer: true }) },
    }),
    // W2h2's baseline: the same app on a node:http2 secure server, h2 only.
    h2: createAdaptorServer({
      fetch: app.fetch,
      createServer: createSecureServer,
      serverOptions: { cert: cert.certPem, key: cert.keyPem },
    }),
  }))
})
