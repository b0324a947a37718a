/**
 * startProxy in the test's own process: Node's fetch through `dispatcher`, TLS verified against
 * the proxy's CA only, apps swapped between requests, and the records a test asserts on.
 */
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ProxyAgent } from 'undici'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { CertificateAuthority } from '../../src/ca/authority'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { TSX_IMPORT } from '../helpers/spawn'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const main = () => new Response('main app\n')
const fake = (name: string) => new Hono().get('/v1/user', (c) => c.json({ name }))

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, dispatcher: proxy?.dispatcher } as RequestInit)
  return { status: response.status, body: await response.text() }
}

describe('startProxy', () => {
  it('serves a proxy app over https to fetch through its dispatcher', async () => {
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': fake('ada') } })
    expect(await get('https://api.example.com/v1/user')).toEqual({
      status: 200,
      body: '{"name":"ada"}',
    })
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`)
  })

  it('answers with the new app after setProxyApp and setApp, without a restart', async () => {
    const ada = fake('ada')
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': ada } })
    expect((await get('https://api.example.com/v1/user')).body).toBe('{"name":"ada"}')
    proxy.setProxyApp('api.example.com', fake('bob'))
    expect((await get('https://api.example.com/v1/user')).body).toBe('{"name":"bob"}')
    // A Hono app that has served before is mounted again without "matcher is already built".
    proxy.setProxyApp('api.example.com', ada)
    expect((await get('https://api.example.com/v1/user')).body).toBe('{"name":"ada"}')
    expect((await get('https://api.example.com/other')).body).toBe('main app\n')
    proxy.setApp(() => new Response('second main app\n'))
    expect((await get('https://api.example.com/other')).body).toBe('second main app\n')
    proxy.setProxyApp('api.example.com', null)
    expect((await get('https://api.example.com/v1/user')).body).toBe('second main app\n')
  })

  it('refuses what is not a host name in setProxyApp, naming it', async () => {
    proxy = await startProxy(main)
    expect(() => {
      proxy?.setProxyApp('pay example', fake('x'))
    }).toThrow(/^setProxyApp wants a host name, got "pay example"/)
  })

  it('gathers a record of every request, cleared by clear()', async () => {
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': fake('ada') } })
    await get('https://api.example.com/v1/user?id=1', { method: 'GET' })
    await get('http://example.org/page')
    expect(
      proxy.requests.map(({ method, url, path, route, status }) => ({
        method,
        url,
        path,
        route,
        status,
      }))
    ).toEqual([
      {
        method: 'GET',
        url: 'https://api.example.com/v1/user?id=1',
        path: '/v1/user?id=1',
        route: 'api.example.com',
        status: 200,
      },
      {
        method: 'GET',
        url: 'http://example.org/page',
        path: '/http://example.org/page',
        route: 'app',
        status: 200,
      },
    ])
    proxy.clear()
    expect(proxy.requests).toEqual([])
  })

  it('gathers what the app threw, and still calls the given onLog and onError', async () => {
    const logged: string[] = []
    const reported: string[] = []
    proxy = await startProxy(
      () => {
        throw new Error('the fake broke')
      },
      {
        onLog: (record) => logged.push(record.type),
        onError: (error, { phase }) => reported.push(`${phase}: ${error.message}`),
      }
    )
    expect((await get('https://example.com/')).status).toBe(500)
    expect(proxy.errors.map(({ error, context }) => [context.phase, error.message])).toEqual([
      ['app', 'the fake broke'],
    ])
    expect(reported).toEqual(['app: the fake broke'])
    expect(logged).toContain('request')
  })

  it('gathers what a Hono fake threw, printing nothing, and keeps its HTTPException', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    const api = new Hono()
      .get('/broken', () => {
        throw new Error('the fake broke')
      })
      .get('/teapot', () => {
        throw new HTTPException(418, { message: 'a teapot' })
      })
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': api } })
    expect((await get('https://api.example.com/broken')).status).toBe(500)
    expect(await get('https://api.example.com/teapot')).toEqual({ status: 418, body: 'a teapot' })
    expect(proxy.errors.map(({ error, context }) => [context.phase, error.message])).toEqual([
      ['app', 'the fake broke'],
    ])
    expect(printed).not.toHaveBeenCalled()
    printed.mockRestore()
  })

  it('writes the CA certificate alone to ca.file and removes it on close', async () => {
    proxy = await startProxy(main)
    const { file, pem } = proxy.ca
    expect(readFileSync(file, 'utf8')).toBe(pem)
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/)
    expect(proxy.env.NODE_EXTRA_CA_CERTS).toBe(file)
    await proxy.close()
    expect(existsSync(file)).toBe(false)
    await proxy.close()
  })

  it('stops at the end of an await using block', async () => {
    let url: string
    {
      await using scoped = await startProxy(main)
      url = scoped.url
      expect(
        (await fetch('http://example.com/', { dispatcher: scoped.dispatcher } as RequestInit))
          .status
      ).toBe(200)
    }
    await expect(fetch(`${url}/`)).rejects.toThrow()
  })

  it('gives each proxy its own CA, or the one it is handed', async () => {
    const shared = await CertificateAuthority.open({ file: null })
    const [a, b, c] = await Promise.all([
      startProxy(main, { ca: shared }),
      startProxy(main, { ca: shared }),
      startProxy(main),
    ])
    try {
      expect(a.ca.pem).toBe(shared.certPem)
      expect(b.ca.spki).toBe(a.ca.spki)
      expect(c.ca.spki).not.toBe(a.ca.spki)
    } finally {
      await Promise.all([a.close(), b.close(), c.close()])
    }
  })

  it('is refused by a client that trusts another CA', async () => {
    proxy = await startProxy(main)
    const other = await startProxy(main)
    const stranger = new ProxyAgent({ uri: proxy.url, requestTls: { ca: other.ca.pem } })
    try {
      await expect(
        fetch('https://example.com/', { dispatcher: stranger } as RequestInit)
      ).rejects.toThrow()
      expect((await get('https://example.com/')).status).toBe(200)
    } finally {
      await Promise.all([stranger.close(), other.close()])
    }
  })
})

describe('startProxy after close()', () => {
  it('leaves no CA file behind when ca.file is first read after close', async () => {
    const closed = await startProxy(main)
    await closed.close()
    const { file } = closed.ca
    expect(existsSync(file)).toBe(false)
    expect(closed.env.NODE_EXTRA_CA_CERTS).toBe(file)
    expect(existsSync(file)).toBe(false)
  })
})

describe('a proxy never closed', () => {
  it('leaves no CA file behind once its process exits', async () => {
    const kit = pathToFileURL(resolve(import.meta.dirname, '../../src/testing/start-proxy.ts'))
    // A test that failed before its close(): the run ends, and the process with it.
    const script = [
      `import { startProxy } from ${JSON.stringify(kit.href)}`,
      `const proxy = await startProxy(() => new Response('fake'))`,
      `console.log(proxy.env.NODE_EXTRA_CA_CERTS)`,
      `process.exit(1)`,
    ].join('\n')
    const child = promisify(execFile)(process.execPath, [
      '--import',
      TSX_IMPORT,
      '--input-type=module',
      '-e',
      script,
    ])
    const { stdout } = await child.catch((error: unknown) => error as { stdout: string })
    const file = stdout.trim()
    expect(file).toMatch(/wsgiprox-ca-cert\.pem$/)
    expect(existsSync(dirname(file))).toBe(false)
  })
})
