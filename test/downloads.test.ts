import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import { echoApp } from './helpers/apps'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { missing } from './helpers/tools'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function download(port: number, url: string) {
  const { request } = await import('undici')
  const { ProxyAgent } = await import('undici')
  const dispatcher = new ProxyAgent(`http://127.0.0.1:${port}`)
  const res = await request(url, { dispatcher })
  const body = Buffer.from(await res.body.arrayBuffer())
  await dispatcher.close()
  return { status: res.statusCode, type: res.headers['content-type'], body }
}

describe('certificate downloads', () => {
  it('serves the CA certificate as PEM, without the private key', async () => {
    running = await startProxy(echoApp())
    const pem = await download(running.port, 'http://wsgiprox/download/pem')
    expect(pem.type).toBe('application/x-x509-ca-cert')
    expect(pem.body.toString()).toBe(running.caPem)
    expect(pem.body.toString()).not.toMatch(/PRIVATE KEY/)
    expect(new X509Certificate(pem.body).ca).toBe(true)
  })

  it.skipIf(missing('openssl'))(
    'serves PKCS#12 that openssl reads, holding the certificate and no key',
    async () => {
      running = await startProxy(echoApp())
      const p12 = await download(running.port, 'http://wsgiprox/download/p12')
      expect(p12.type).toBe('application/x-pkcs12')
      const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-p12-'))
      writeFileSync(join(dir, 'ca.p12'), p12.body)
      const info = execFileSync(
        'openssl',
        ['pkcs12', '-in', join(dir, 'ca.p12'), '-passin', 'pass:', '-nokeys', '-info'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }
      )
      expect(info).toContain('BEGIN CERTIFICATE')
      const keys = execFileSync(
        'openssl',
        ['pkcs12', '-in', join(dir, 'ca.p12'), '-passin', 'pass:', '-nocerts', '-nodes'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }
      )
      expect(keys).not.toMatch(/PRIVATE KEY/)
    }
  )

  it('serves DER as application/pkix-cert', async () => {
    running = await startProxy(echoApp())
    const der = await download(running.port, 'http://wsgiprox/download/cer')
    expect(der.type).toBe('application/pkix-cert')
    expect(new X509Certificate(der.body).fingerprint256).toBe(running.ca.fingerprint256)
  })

  it('serves the downloads over https on the download host', async () => {
    running = await startProxy(echoApp())
    const tls = await httpsTunnel(running.port, 'wsgiprox:443', 'wsgiprox', running.caPem)
    const reply = await requestOver(tls, '/download/pem', { host: 'wsgiprox' })
    expect(reply.body).toBe(running.caPem)
  })

  it('serves downloads on a separate download host and lets other paths fall through', async () => {
    running = await startProxy(echoApp(), { downloadHost: 'certs.local' })
    expect((await proxyGet(running.port, 'http://certs.local/download/pem')).body).toBe(
      running.caPem
    )
    const other = JSON.parse((await proxyGet(running.port, 'http://certs.local/else')).body) as {
      path: string
      proxyHost: string
    }
    expect(other).toMatchObject({ path: '/else', proxyHost: 'certs.local' })
    const main = JSON.parse(
      (await proxyGet(running.port, 'http://wsgiprox/download/pem')).body
    ) as { path: string }
    expect(main.path).toBe('/download/pem')
  })

  it('keeps the CA pages in front of a proxy app named as the download host', async () => {
    const mine = (request: Request) =>
      new URL(request.url).pathname === '/mine' ? new Response('proxy app\n') : undefined
    running = await startProxy(echoApp(), {
      resolver: new ProxyAuthResolver(),
      proxyApps: { wsgiprox: mine },
    })
    // Public, as the CA's pages are: the certificate, never the main app's own page.
    const pem = await proxyGet(running.port, 'http://wsgiprox/download/pem')
    expect([pem.status, pem.body]).toEqual([200, running.caPem])
    // The proxy app's paths still ask for the login, and are served with it.
    expect((await proxyGet(running.port, 'http://wsgiprox/mine')).status).toBe(407)
    const login = { 'proxy-authorization': `Basic ${Buffer.from('coll:').toString('base64')}` }
    const served = await proxyGet(running.port, 'http://wsgiprox/mine', { headers: login })
    expect(served.body).toBe('proxy app\n')
  })

  it('sends download paths to the main app when downloads are off', async () => {
    running = await startProxy(echoApp(), { enableCertDownload: false })
    const reply = JSON.parse(
      (await proxyGet(running.port, 'http://wsgiprox/download/pem')).body
    ) as { app: string }
    expect(reply.app).toBe('main')
  })
})
