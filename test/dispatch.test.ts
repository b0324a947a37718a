import { Hono } from 'hono'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const parse = (body: string) => JSON.parse(body) as Echo & { app: string }

function subApp() {
  const app = new Hono()
  app.get('/path/*', (c) =>
    c.json({
      app: 'proxy-app-1',
      path: c.req.path,
      proxyHost: c.req.header('x-wsgiprox-proxy-host'),
    })
  )
  return app
}

describe('proxy apps', () => {
  it('sends a proxy app host to its Hono sub-app first', async () => {
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': subApp() } })
    const reply = await proxyGet(running.port, 'http://proxy-app-1/path/a')
    expect(parse(reply.body)).toEqual({
      app: 'proxy-app-1',
      path: '/path/a',
      proxyHost: 'proxy-app-1',
    })
  })

  it('falls through to the main app for routes the sub-app lacks', async () => {
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': subApp() } })
    const reply = await proxyGet(running.port, 'http://proxy-app-1/other?x=1')
    expect(parse(reply.body)).toMatchObject({
      app: 'main',
      path: '/other?x=1',
      proxyHost: 'proxy-app-1',
    })
  })

  it('falls through when a fetch handler returns undefined, with the body still readable', async () => {
    const handler = (request: Request) =>
      new URL(request.url).pathname === '/mine' ? new Response('fetch handler') : undefined
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-2': handler } })
    expect((await proxyGet(running.port, 'http://proxy-app-2/mine')).body).toBe('fetch handler')
    const reply = await proxyGet(running.port, 'http://proxy-app-2/yours', {
      method: 'POST',
      body: 'kept',
    })
    expect(parse(reply.body)).toMatchObject({ app: 'main', body: 'kept', proxyHost: 'proxy-app-2' })
  })

  it('serves proxy apps over https too', async () => {
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': subApp() } })
    const tls = await httpsTunnel(running.port, 'proxy-app-1:443', 'proxy-app-1', running.caPem)
    const reply = await requestOver(tls, '/path/secure', { host: 'proxy-app-1' })
    expect(parse(reply.body)).toMatchObject({ app: 'proxy-app-1', path: '/path/secure' })
  })

  it('treats a null proxy app as an alias of the main app', async () => {
    running = await startProxy(echoApp(), {
      prefix: '/prefix/',
      proxyApps: { 'proxy-alias': null },
    })
    const reply = await proxyGet(running.port, 'http://proxy-alias/path/file.html?A=B')
    expect(parse(reply.body)).toMatchObject({
      app: 'main',
      path: '/path/file.html?A=B',
      proxyHost: 'proxy-alias',
    })
  })

  it('serves a custom proxy host and uses it in the header of translated requests', async () => {
    running = await startProxy(echoApp(), { prefix: '/pre/', proxyHost: 'myproxy' })
    const own = parse((await proxyGet(running.port, 'http://myproxy/x')).body)
    expect(own).toMatchObject({ path: '/x', proxyHost: 'myproxy' })
    const other = parse((await proxyGet(running.port, 'http://example.com/y')).body)
    expect(other).toMatchObject({ path: '/pre/http://example.com/y', proxyHost: 'myproxy' })
  })
})

describe('Fetch-only mode', () => {
  it('answers CONNECT with 405 HTTPS Proxy Not Supported', async () => {
    running = await startProxy(echoApp())
    // Fetch's Request cannot carry CONNECT, but other runtimes hand such requests to a fetch
    // handler; a Request-shaped object stands in for one.
    const connect = { method: 'CONNECT', url: 'http://example.com:443/', headers: new Headers() }
    const response = await running.proxy.fetch(connect as unknown as Request)
    expect(response.status).toBe(405)
    expect(response.statusText).toBe('HTTPS Proxy Not Supported')
  })

  it('routes proxy hosts by the Host and passes other requests through', async () => {
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': subApp() } })
    const sub = await running.proxy.fetch(new Request('http://proxy-app-1/path/z'))
    expect(((await sub.json()) as Echo).proxyHost).toBe('proxy-app-1')
    const pass = await running.proxy.fetch(
      new Request('http://localhost/direct', { headers: { 'x-wsgiprox-proxy-host': 'forged' } })
    )
    expect((await pass.json()) as Echo).toMatchObject({ path: '/direct', proxyHost: null })
  })

  it('asks for the login before the app serves /proxy.pac, which has no PAC file without a socket', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const pac = await running.proxy.fetch(new Request('http://wsgiprox/proxy.pac'))
    expect(pac.status).toBe(407)
    // The CA's pages are the proxy's own, and stay public here too.
    const pem = await running.proxy.fetch(new Request('http://wsgiprox/download/pem'))
    expect([pem.status, await pem.text()]).toEqual([200, running.caPem])
  })
})
