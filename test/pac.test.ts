/**
 * The PAC file: what its FindProxyForURL answers (run in a node:vm sandbox with the PAC helper
 * functions browsers provide), and where it is served: through the proxy on the proxy host, and
 * directly on the proxy's own address.
 */
import { request as httpRequest } from 'node:http'
import { runInNewContext } from 'node:vm'
import { PAC_CONTENT_TYPE, pacScript } from '../src/pages/pac'
import { createProxy } from '../src/proxy'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { httpsTunnel, proxyGet, rawExchange, requestOver } from './helpers/clients'
import type { Reply } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** The helpers a browser gives a PAC script, as far as ours uses them. */
const PAC_HELPERS = {
  shExpMatch: (text: string, pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`
    ).test(text),
  dnsDomainIs: (host: string, domain: string) => host.endsWith(domain),
}

/** Evaluate `script` as a browser does and ask it about `url`. */
function findProxy(script: string, url: string): string {
  const sandbox: Record<string, unknown> = { ...PAC_HELPERS }
  runInNewContext(script, sandbox, { timeout: 1000 })
  const find = sandbox.FindProxyForURL as (url: string, host: string) => string
  return find(url, new URL(url).hostname)
}

/** A direct (origin-form) GET with the given Host header. */
function directGet(port: number, path: string, host: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          httpVersion: res.httpVersion,
        })
      })
    })
    req.end()
  })
}

describe('pac script', () => {
  it.each([
    ['http://example.com/a', 'PROXY 127.0.0.1:8080; SOCKS5 127.0.0.1:8080'],
    ['https://sub.example.org:8443/b', 'PROXY 127.0.0.1:8080; SOCKS5 127.0.0.1:8080'],
  ])('sends %s through the proxy, HTTP first and SOCKS5 second', (url, expected) => {
    expect(findProxy(pacScript({ address: '127.0.0.1:8080', socks: true }), url)).toBe(expected)
  })

  it.each([
    ['https://www.example.com/', 'PROXY [::1]:8080'],
    ['http://EXAMPLE.ORG/x', 'PROXY [::1]:8080'],
    ['http://example.org.evil.test/', 'DIRECT'],
    ['https://other.test/', 'DIRECT'],
  ])('sends %s as the host patterns say', (url, expected) => {
    const script = pacScript({
      address: '[::1]:8080',
      socks: false,
      hosts: ['*.example.com', 'example.org'],
    })
    expect(findProxy(script, url)).toBe(expected)
  })
})

describe('pac file', () => {
  it('is served through the proxy on the proxy host, naming the address the client reached', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://wsgiprox/proxy.pac')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe(PAC_CONTENT_TYPE)
    const address = `127.0.0.1:${running.port}`
    expect(findProxy(reply.body, 'https://example.com/')).toBe(
      `PROXY ${address}; SOCKS5 ${address}`
    )
  })

  it('is served over https inside a tunnel too', async () => {
    running = await startProxy(echoApp())
    const tls = await httpsTunnel(running.port, 'wsgiprox:443', 'wsgiprox', running.caPem)
    const reply = await requestOver(tls, '/proxy.pac', { host: 'wsgiprox' })
    expect(reply.headers['content-type']).toBe(PAC_CONTENT_TYPE)
    expect(reply.body).toContain(`PROXY 127.0.0.1:${running.port}`)
    tls.destroy()
  })

  it.each(['127.0.0.1', 'localhost'])(
    'is served on a direct request whose Host is the proxy own address (%s)',
    async (name) => {
      running = await startProxy(echoApp())
      const reply = await directGet(running.port, '/proxy.pac', `${name}:${running.port}`)
      expect(reply.status).toBe(200)
      expect(reply.headers['content-type']).toBe(PAC_CONTENT_TYPE)
      expect(reply.body).toContain(`PROXY 127.0.0.1:${running.port}`)
    }
  )

  it('is served on a direct HTTP/1.0 request with no Host, which names the address it reached', async () => {
    running = await startProxy(echoApp())
    const reply = await rawExchange(running.port, 'GET /proxy.pac HTTP/1.0\r\n\r\n')
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply.toLowerCase()).toContain(`content-type: ${PAC_CONTENT_TYPE}`)
    expect(reply).toContain(`PROXY 127.0.0.1:${running.port}`)
  })

  it('leaves a direct /proxy.pac for another host, or another port, to the main app', async () => {
    running = await startProxy(echoApp())
    for (const host of ['example.com', `127.0.0.1:${running.port + 1}`]) {
      const reply = await directGet(running.port, '/proxy.pac', host)
      expect((JSON.parse(reply.body) as Echo).path).toBe('/proxy.pac')
    }
  })

  it('names HTTP only when SOCKS is off', async () => {
    running = await startProxy(echoApp(), { socks: false })
    const reply = await proxyGet(running.port, 'http://wsgiprox/proxy.pac')
    expect(findProxy(reply.body, 'http://a.test/')).toBe(`PROXY 127.0.0.1:${running.port}`)
  })

  it('sends only the hosts of pac.hosts through the proxy', async () => {
    running = await startProxy(echoApp(), { pac: { hosts: ['*.example.com'] } })
    const reply = await proxyGet(running.port, 'http://wsgiprox/proxy.pac')
    expect(findProxy(reply.body, 'http://a.example.com/')).toContain('PROXY')
    expect(findProxy(reply.body, 'http://a.test/')).toBe('DIRECT')
  })

  it('is off with pac: false: both requests reach the main app', async () => {
    running = await startProxy(echoApp(), { prefix: '/p/', pac: false })
    const proxied = await proxyGet(running.port, 'http://wsgiprox/proxy.pac')
    expect((JSON.parse(proxied.body) as Echo).path).toBe('/proxy.pac')
    const direct = await directGet(running.port, '/proxy.pac', `127.0.0.1:${running.port}`)
    expect((JSON.parse(direct.body) as Echo).proxyHost).toBeNull()
  })

  it('still lets the download app serve on the proxy host', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://wsgiprox/download/pem')
    expect(reply.headers['content-type']).toBe('application/x-x509-ca-cert')
  })

  it.each([
    ['a string', 'yes'],
    ['hosts that are not a list', { hosts: '*.example.com' }],
    ['a pattern with a quote', { hosts: ['a"b'] }],
    ['an unknown key', { hosts: [], direct: true }],
    // A browser's shExpMatch is a regular expression: four stars are time to the fourth power.
    ['a pattern of four stars', { hosts: ['*a*b*c*.example.com'] }],
  ])('refuses %s as the pac option', (_name, pac) => {
    expect(() => createProxy(echoApp(), { pac: pac as never })).toThrow(/pac must be/)
  })

  it('writes a run of stars as one, which means the same to shExpMatch', async () => {
    running = await startProxy(echoApp(), { pac: { hosts: ['****.example.com', '*.*.*.org'] } })
    const reply = await proxyGet(running.port, 'http://wsgiprox/proxy.pac')
    expect(reply.body).toContain('["*.example.com","*.*.*.org"]')
  })
})
