/**
 * Per-host apps: a Hono sub-app for `proxy-app-1`, a fetch handler for `proxy-app-2`, and
 * `proxy-alias`, an alias of the main app. What a proxy app does not handle falls through.
 *
 *   npx tsx examples/proxy-apps.ts
 *   curl -x http://127.0.0.1:8080 http://proxy-app-1/path/   # the sub-app
 *   curl -x http://127.0.0.1:8080 http://proxy-app-1/other   # falls through to the main app
 *   curl -x http://127.0.0.1:8080 http://proxy-app-2/foo     # the fetch handler
 *   curl -x http://127.0.0.1:8080 http://proxy-alias/x       # main app, proxy host proxy-alias
 */
import { Hono } from 'hono'
import { createProxy } from 'wsgiprox'
import type { AddressInfo } from 'node:net'

const main = new Hono()
main.all('*', (c) =>
  c.text(`main app: ${c.req.path} via ${c.req.header('x-wsgiprox-proxy-host')}\n`)
)

const proxyApp1 = new Hono()
proxyApp1.get('/path/*', (c) => c.text(`proxy-app-1: ${c.req.path}\n`))

const proxy = createProxy(main, {
  proxyApps: {
    'proxy-app-1': proxyApp1,
    'proxy-app-2': (request) =>
      new URL(request.url).pathname === '/foo' ? new Response('proxy-app-2: foo\n') : undefined,
    'proxy-alias': null,
  },
})
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
