import { Hono } from 'hono'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { drainable } from '../src/cluster/drain'
import { createProxy } from '../src/proxy'
import { connectTunnel, h2OverTunnel, httpsTunnel, rawSocket, requestOver } from './helpers/clients'
import { testCa } from './helpers/proxy'

/** A proxy whose app holds `/slow` until `release()`; `entered` resolves once it holds one. */
async function start() {
  let release = () => {}
  let enter = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const entered = new Promise<void>((resolve) => {
    enter = resolve
  })
  const app = new Hono()
  app.get('/:rest{(.*/)?slow}', async (c) => {
    enter()
    await held
    return c.text('slow done')
  })
  app.all('*', (c) => c.text('ok'))
  const proxy = createProxy(app, { ca: await testCa() })
  const server = await proxy.listen(0, '127.0.0.1')
  const { drain } = drainable(server)
  const { port } = server.address() as AddressInfo
  return { proxy, port, drain, release, entered, caPem: (await testCa()).certPem }
}

describe('drainable', () => {
  it('closes idle keep-alive connections and tunnels at once, and resolves when all are gone', async () => {
    const { proxy, port, drain, caPem } = await start()
    const plain = await rawSocket(port)
    expect((await requestOver(plain, 'http://example.com/')).body).toBe('ok')
    const tls = await httpsTunnel(port, 'example.com:443', 'example.com', caPem)
    expect((await requestOver(tls, '/')).body).toBe('ok')

    const closed = Promise.all([once(plain, 'close'), once(tls, 'close')])
    expect(await drain(5_000)).toBe(true)
    await closed
    await proxy.close()
  })

  it('closes an HTTP/2 session between streams and a tunnel that has sent nothing, at once', async () => {
    const { proxy, port, drain, caPem } = await start()
    const { session, tls } = await h2OverTunnel(port, caPem)
    const stream = session.request({ ':path': '/' })
    stream.resume()
    await once(stream, 'end')
    const silent = await connectTunnel(port, 'example.com:443')
    expect(silent.status).toBe(200)
    silent.socket.resume()

    const closed = Promise.all([once(tls, 'close'), once(silent.socket, 'close')])
    const t0 = Date.now()
    expect(await drain(5_000)).toBe(true)
    await closed
    expect(Date.now() - t0).toBeLessThan(1_000)
    await proxy.close()
  })

  it('lets a request in flight finish, asks its client to close, then closes', async () => {
    const { proxy, port, drain, release, entered, caPem } = await start()
    const tls = await httpsTunnel(port, 'example.com:443', 'example.com', caPem)
    const reply = requestOver(tls, '/slow')
    await entered

    const drained = drain(5_000)
    release()
    const response = await reply
    expect(response.body).toBe('slow done')
    expect(response.headers.connection).toBe('close')
    expect(await drained).toBe(true)
    await proxy.close()
  })

  it('gives up at the timeout while a connection stays busy', async () => {
    const { proxy, port, drain, release, entered } = await start()
    const socket = await rawSocket(port)
    socket.write('GET http://example.com/slow HTTP/1.1\r\nHost: example.com\r\n\r\n')
    await entered
    expect(await drain(100)).toBe(false)
    release()
    socket.destroy()
    await proxy.close()
  })
})
