/**
 * Resolvers: a function that files each request under the client's address, or (with
 * AUTH=1) ProxyAuthResolver, which asks for proxy credentials and uses the user name.
 *
 *   npx tsx examples/resolvers.ts
 *   curl -x http://127.0.0.1:8080 http://example.com/a      # app sees /by-ip/127.0.0.1/http://example.com/a
 *   AUTH=1 npx tsx examples/resolvers.ts
 *   curl -x http://127.0.0.1:8080 http://example.com/a      # 407 Proxy Authentication Required
 *   curl -x http://my-coll:@127.0.0.1:8080 http://example.com/a   # app sees /my-coll/http://example.com/a
 */
import { Hono } from 'hono'
import { createProxy, ProxyAuthResolver } from 'wsgiprox'
import type { ResolveFunction } from 'wsgiprox'
import type { AddressInfo } from 'node:net'

const app = new Hono()
app.all('*', (c) => c.text(`app sees ${new URL(c.req.url).pathname}\n`))

// A function resolver gets the full URL and the client's request (method and headers).
const byForwardedFor: ResolveFunction = (url, request) =>
  `/by-ip/${request.headers.get('x-forwarded-for') ?? '127.0.0.1'}/${url}`

const proxy = createProxy(app, {
  resolver: process.env.AUTH ? new ProxyAuthResolver('Collection name') : byForwardedFor,
})
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
