/**
 * What the Fetch-only entry does with CONNECT where it is documented (docs/translation.md): in
 * Node a CONNECT cannot become a Request, and a server made with serve({ fetch }) closes it
 * unanswered.
 */
import { serve } from '@hono/node-server'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createProxy } from '../src/proxy'
import { echoApp } from './helpers/apps'
import { rawExchange } from './helpers/clients'

let server: Server | undefined
afterEach(async () => {
  if (server) {
    const closed = once(server, 'close')
    server.close()
    await closed
  }
  server = undefined
})

describe('Fetch-only mode and CONNECT', () => {
  it('cannot be given a CONNECT Request in Node: the constructor throws', () => {
    expect(() => new Request('http://example.com:443/', { method: 'CONNECT' })).toThrow(TypeError)
  })

  it('leaves a CONNECT to serve({ fetch: proxy.fetch }) unanswered: Node closes it', async () => {
    const proxy = createProxy(echoApp(), { ca: { file: null } })
    server = serve({
      fetch: (request) => proxy.fetch(request),
      port: 0,
      hostname: '127.0.0.1',
    }) as Server
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const answer = await rawExchange(
      port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
    )
    expect(answer).toBe('')
  })
})
