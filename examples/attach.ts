/**
 * Attach the proxy to a server you made yourself, here the one serve() from @hono/node-server
 * returns. Direct requests still reach the app; proxy requests are translated.
 *
 *   npx tsx examples/attach.ts
 *   curl http://127.0.0.1:8080/direct
 *   curl -x http://127.0.0.1:8080 http://example.com/proxied
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createProxy } from 'wsgiprox'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const app = new Hono()
app.all('*', (c) =>
  c.text(`${c.req.path} (proxy host: ${c.req.header('x-wsgiprox-proxy-host') ?? 'none'})\n`)
)

const server = serve({
  fetch: app.fetch,
  port: Number(process.env.PORT ?? 8080),
  hostname: '127.0.0.1',
})
await once(server, 'listening')
createProxy(app, { prefix: '/proxied/' }).attach(server as Server)
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
