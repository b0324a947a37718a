import { Hono } from 'hono'
import { request } from 'undici'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { proxyGet } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe('absolute-form proxy requests', () => {
  it('gives the app the prefixed full URL and the proxy-host header', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const reply = await proxyGet(running.port, 'http://example.com:8000/a?b=c')
    const echo = JSON.parse(reply.body) as Echo
    expect(reply.status).toBe(200)
    expect(echo.path).toBe('/prefix/http://example.com:8000/a?b=c')
    expect(echo.proxyHost).toBe('wsgiprox')
    expect(echo.headers.host).toBe('example.com:8000')
  })

  it('elides the default port', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const reply = await proxyGet(running.port, 'http://example.com:80/')
    expect((JSON.parse(reply.body) as Echo).path).toBe('/prefix/http://example.com/')
  })

  it('keeps the https scheme of an absolute URL sent without a tunnel', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const reply = await proxyGet(running.port, 'https://example.com/a')
    expect((JSON.parse(reply.body) as Echo).path).toBe('/prefix/https://example.com/a')
  })

  it('gives the app the https URL of an absolute https URL sent without a tunnel', async () => {
    // Older axios releases sent their HTTPS_PROXY requests so: a fake that builds links from
    // its request URL must not hand out http:// ones.
    const api = new Hono().get('/v1/items', (c) => c.text(c.req.url))
    running = await startProxy((request) => new Response(request.url), {
      prefix: '/prefix/',
      proxyApps: { 'api.example.com': api },
    })
    const toApp = await proxyGet(running.port, 'https://api.example.com/v1/items?page=2')
    expect(toApp.body).toBe('https://api.example.com/v1/items?page=2')
    const toMain = await proxyGet(running.port, 'https://example.com/a')
    expect(toMain.body).toBe('https://example.com/prefix/https://example.com/a')
  })

  it('serves a proxy host untranslated', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const reply = await proxyGet(running.port, 'http://wsgiprox/path/file.html?A=B')
    const echo = JSON.parse(reply.body) as Echo
    expect(echo.path).toBe('/path/file.html?A=B')
    expect(echo.proxyHost).toBe('wsgiprox')
    expect(echo.headers.host).toBe('wsgiprox')
  })

  it('never shows the app proxy credentials, Proxy-Connection or a forged proxy-host header', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://example.com/', {
      headers: {
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        'proxy-connection': 'keep-alive',
        'x-wsgiprox-proxy-host': 'forged',
        'x-kept': 'yes',
      },
    })
    const echo = JSON.parse(reply.body) as Echo
    expect(echo.headers['proxy-authorization']).toBeUndefined()
    expect(echo.headers['proxy-connection']).toBeUndefined()
    expect(echo.proxyHost).toBe('wsgiprox')
    expect(echo.headers['x-kept']).toBe('yes')
  })

  it('delivers POST bodies and chunked uploads intact', async () => {
    running = await startProxy(echoApp())
    const body = 'x'.repeat(200_000)
    const fixed = await proxyGet(running.port, 'http://example.com/upload', {
      method: 'POST',
      body,
    })
    expect((JSON.parse(fixed.body) as Echo).body).toBe(body)
    const chunked = await proxyGet(running.port, 'http://example.com/upload', {
      method: 'PUT',
      body: 'chunked body',
      headers: { 'transfer-encoding': 'chunked' },
    })
    expect((JSON.parse(chunked.body) as Echo).body).toBe('chunked body')
  })

  it('works with undici as the proxy client', async () => {
    running = await startProxy(echoApp(), { prefix: '/p/' })
    const { ProxyAgent } = await import('undici')
    const dispatcher = new ProxyAgent(running.url)
    const res = await request('http://example.com/x?y=1', { dispatcher })
    const echo = (await res.body.json()) as Echo
    await dispatcher.close()
    expect(echo.path).toBe('/p/http://example.com/x?y=1')
  })
})

describe('passthrough', () => {
  it('sends origin-form requests to the main app as they are, with no proxy-host header', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const res = await request(`${running.url}/direct/path?q=1`, {
      headers: { 'x-wsgiprox-proxy-host': 'forged' },
    })
    const echo = (await res.body.json()) as Echo
    expect(echo.path).toBe('/direct/path?q=1')
    expect(echo.proxyHost).toBeNull()
  })
})

describe('app errors', () => {
  it('answers 500 when the app throws, and serves the next request', async () => {
    const app = new Hono()
    app.get('*', (c) => {
      if (c.req.path.endsWith('/boom')) {
        throw new Error('boom')
      }
      return c.text('fine')
    })
    running = await startProxy(app, { prefix: '/' })
    // Hono's default error handler reports the error with console.error.
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})
    const failed = await proxyGet(running.port, 'http://example.com/boom')
    expect(failed.status).toBe(500)
    expect(consoleError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }))
    consoleError.mockRestore()
    const fine = await proxyGet(running.port, 'http://example.com/ok')
    expect(fine.body).toBe('fine')
  })

  it('answers 500 when a bare fetch handler rejects, and reports it', async () => {
    running = await startProxy(() => Promise.reject(new Error('handler failed')))
    const failed = await proxyGet(running.port, 'http://example.com/')
    expect(failed.status).toBe(500)
    expect(running.errors.map((error) => error.message)).toContain('handler failed')
  })
})
