/**
 * A bare Fetch handler, no framework: `(request) => Response`.
 *
 *   npx tsx examples/fetch-handler.ts
 *   curl -x http://127.0.0.1:8080 http://example.com/anything
 */
import { createProxy } from 'wsgiprox'
import type { AddressInfo } from 'node:net'

const proxy = createProxy((request) => {
  const url = new URL(request.url)
  return new Response(`${request.method} ${url.pathname}${url.search}\n`)
})
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
