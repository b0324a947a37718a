/**
 * A Hono app behind the proxy, with every URL prefixed by /prefix/.
 *
 *   npx tsx examples/hono-app.ts
 *   curl -x http://127.0.0.1:8080 http://example.com/hello
 *   curl --cacert ca/wsgiprox-ca.pem -x http://127.0.0.1:8080 https://example.com/hello
 *   curl -x http://127.0.0.1:8080 http://wsgiprox/info
 */
import { Hono } from 'hono'
import { createProxy } from 'wsgiprox'
import type { AddressInfo } from 'node:net'

const app = new Hono()
// Proxied requests arrive as /prefix/<full URL>.
app.get('/prefix/*', (c) => {
  const url = new URL(c.req.url)
  const original = (url.pathname + url.search).slice('/prefix/'.length)
  return c.text(`You asked for ${original} through ${c.req.header('x-wsgiprox-proxy-host')}\n`)
})
// The proxy host itself is served untranslated.
app.get('/info', (c) =>
  c.text(`This is the proxy host (${c.req.header('x-wsgiprox-proxy-host')})\n`)
)

const proxy = createProxy(app, { prefix: '/prefix/' })
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
