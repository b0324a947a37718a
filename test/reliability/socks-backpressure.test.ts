import { once } from 'node:events'
import type { Resolver } from '../../src/types'
import { echoApp } from '../helpers/apps'
import { proxyGet, rawSocket } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const MiB = 1024 * 1024

describe('socks5 while admission decides', () => {
  it('stops reading a client that floods bytes behind its greeting, and serves the others', async () => {
    let decide = (_realm: string | undefined) => {}
    let asked = () => {}
    const deciding = new Promise<void>((resolve) => {
      asked = resolve
    })
    const resolver: Resolver = {
      resolve: (url) => `/p/${url}`,
      // A slow check (a remote user store) of the SOCKS5 client that offers no credentials, which
      // admission asks about as a request to the proxy host: it answers when the test says so.
      requireAuth: (request) => {
        if (!request.url.startsWith('https://wsgiprox/')) {
          return undefined
        }
        asked()
        return new Promise<string | undefined>((answer) => {
          decide = answer
        })
      },
    }
    const proxy = (running = await startProxy(echoApp(), { resolver }))
    const flooder = await rawSocket(proxy.port)
    flooder.on('error', () => {})
    // A no-authentication greeting, then 64 MiB that nobody asked for.
    const flood = 64 * MiB
    flooder.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), Buffer.alloc(flood, 0x05)]))
    // The client's own copy counts from here on: what grows is what the proxy takes in.
    const before = process.memoryUsage().arrayBuffers
    await deciding
    // Other clients are served meanwhile, over many turns of the event loop.
    for (let i = 0; i < 20; i++) {
      const reply = await proxyGet(proxy.port, 'http://example.com/')
      expect(reply.status).toBe(200)
    }
    // What the proxy did not read stays in the client's buffer (the kernel holds a few MiB).
    expect(flooder.writableLength).toBeGreaterThan(flood - 16 * MiB)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB)
    const answers: Buffer[] = []
    flooder.on('data', (chunk: Buffer) => answers.push(chunk))
    const closed = once(flooder, 'close')
    decide(undefined)
    // Then the bytes are read as the request they are not: refused (address type 5), and closed.
    await closed
    expect(Buffer.concat(answers).subarray(0, 4).toString('hex')).toBe('05000508')
  })
})
