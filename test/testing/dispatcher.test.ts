/**
 * `proxy.dispatcher` as a test uses it in its own process: per fetch, or made the global
 * dispatcher for code that takes no options, next to the test's own servers on loopback.
 */
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { canListenOnIpv6 } from '../helpers/ipv6'

let proxy: TestProxy
let local: Server
let localUrl: string
const original = getGlobalDispatcher()
const hasIpv6 = await canListenOnIpv6()

beforeEach(async () => {
  proxy = await startProxy(() => new Response('faked\n'))
  local = createServer((_req, res) => res.end('local server\n')).listen(0, '127.0.0.1')
  await once(local, 'listening')
  localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}/`
})
afterEach(async () => {
  setGlobalDispatcher(original)
  local.close()
  await proxy.close()
})

async function text(url: string, init: RequestInit = {}): Promise<string> {
  return (await fetch(url, init)).text()
}

describe('proxy.dispatcher', () => {
  it('sends loopback direct, as NO_PROXY does, and every other host to the fakes', async () => {
    const init = { dispatcher: proxy.dispatcher } as RequestInit
    expect(await text(localUrl, init)).toBe('local server\n')
    expect(await text(localUrl.replace('127.0.0.1', 'localhost'), init)).toBe('local server\n')
    expect(await text('https://api.example.com/', init)).toBe('faked\n')
    expect(proxy.requests.map((r) => r.url)).toEqual(['https://api.example.com/'])
  })

  it.skipIf(!hasIpv6)('sends the IPv6 loopback direct too', async () => {
    const server = createServer((_req, res) => res.end('ipv6 server\n')).listen(0, '::1')
    await once(server, 'listening')
    try {
      const url = `http://[::1]:${(server.address() as AddressInfo).port}/`
      expect(await text(url, { dispatcher: proxy.dispatcher } as RequestInit)).toBe('ipv6 server\n')
      expect(proxy.requests).toEqual([])
    } finally {
      server.close()
    }
  })

  it('made global, gives way to the dispatcher it replaced when the proxy closes', async () => {
    setGlobalDispatcher(proxy.dispatcher)
    expect(await text('https://api.example.com/')).toBe('faked\n')
    expect(await text(localUrl)).toBe('local server\n')
    await proxy.close()
    expect(getGlobalDispatcher()).toBe(original)
    expect(await text(localUrl)).toBe('local server\n')
  })

  it('made global after another closed proxy, gives way to a working one', async () => {
    const first = await startProxy(() => new Response('first\n'))
    setGlobalDispatcher(first.dispatcher)
    const second = await startProxy(() => new Response('second\n'))
    setGlobalDispatcher(second.dispatcher)
    expect(await text('https://api.example.com/')).toBe('second\n')
    await first.close()
    expect(await text('https://api.example.com/')).toBe('second\n')
    await second.close()
    expect(await text(localUrl)).toBe('local server\n')
  })
})

describe('proxy.fetchInit', () => {
  it('sends fetch through the proxy, spread with a method and a body', async () => {
    proxy.setApp(async (request) => new Response(`${request.method} ${await request.text()}\n`))
    expect(await text('https://api.example.com/', proxy.fetchInit)).toBe('GET \n')
    const post = { ...proxy.fetchInit, method: 'POST', body: '{"name":"ada"}' }
    expect(await text('https://api.example.com/', post)).toBe('POST {"name":"ada"}\n')
    expect(proxy.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET https://api.example.com/',
      'POST https://api.example.com/',
    ])
  })
})
