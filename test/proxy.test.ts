import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { OptionsError } from '../src/errors'
import { createProxy } from '../src/proxy'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { httpsTunnel, proxyGet, rawSocket, requestOver } from './helpers/clients'
import { testCa } from './helpers/proxy'

describe('createProxy', () => {
  it('listens, serves and closes with tunnels still open', async () => {
    const proxy = createProxy(echoApp(), { ca: await testCa() })
    const server = await proxy.listen(0, '127.0.0.1')
    const { port } = server.address() as AddressInfo
    const ca = await proxy.getCertificateAuthority()
    const tls = await httpsTunnel(port, 'example.com:443', 'example.com', ca.certPem)
    expect((await requestOver(tls, '/')).status).toBe(200)
    const idle = await rawSocket(port)
    const closedTls = once(tls, 'close')
    const closedIdle = once(idle, 'close')
    await proxy.close()
    await Promise.all([closedTls, closedIdle])
    expect(server.listening).toBe(false)
  })

  it('attaches to the server that serve() from @hono/node-server returns', async () => {
    const app = new Hono()
    app.get('*', (c) =>
      c.json({ path: c.req.path, proxyHost: c.req.header('x-wsgiprox-proxy-host') ?? null })
    )
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await once(server, 'listening')
    const proxy = createProxy(app, { prefix: '/p/', ca: await testCa() })
    proxy.attach(server as Server)
    const { port } = server.address() as AddressInfo
    const proxied = JSON.parse((await proxyGet(port, 'http://example.com/x')).body) as Echo
    expect(proxied).toEqual({ path: '/p/http://example.com/x', proxyHost: 'wsgiprox' })
    const ca = await proxy.getCertificateAuthority()
    const tls = await httpsTunnel(port, 'example.com:443', 'example.com', ca.certPem)
    const secure = JSON.parse((await requestOver(tls, '/s')).body) as Echo
    expect(secure.path).toBe('/p/https://example.com/s')
    const direct = await fetch(`http://127.0.0.1:${port}/direct`)
    expect(await direct.json()).toEqual({ path: '/direct', proxyHost: null })
    await proxy.close()
  })

  it.each([
    [{ keepaliveMax: -2 }, /keepaliveMax/],
    [{ proxyHost: 'bad host' }, /proxyHost/],
    [{ proxyApps: { x: 42 as unknown as null } }, /proxyApps\["x"\]/],
    [{ handshakeTimeoutMs: 0 }, /handshakeTimeoutMs/],
  ])('refuses bad options %j with an OptionsError naming the option', (options, message) => {
    expect(() => createProxy(echoApp(), options)).toThrow(OptionsError)
    expect(() => createProxy(echoApp(), options)).toThrow(message)
  })
})
