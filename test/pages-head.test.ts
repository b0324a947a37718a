import { execFile } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { promisify } from 'node:util'
import { echoApp } from './helpers/apps'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { missing, toolPath } from './helpers/tools'

// RFC 9110 §9.3.2: HEAD gets the header fields GET of the same URL has, Content-Length included.

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(): Promise<RunningProxy> {
  running = await startProxy(echoApp(), { pac: true, metrics: true })
  return running
}

/** The proxy's own pages; their bodies do not change between two requests. */
const PAGES = [
  '/download/pem',
  '/download/p12',
  '/download/cer',
  '/download/',
  '/download/check',
  '/proxy.pac',
]

/** The headers a HEAD must repeat from the GET (the dates and the like may differ). */
const compared = (headers: IncomingHttpHeaders) => ({
  'content-type': headers['content-type'],
  'content-length': headers['content-length'],
  'transfer-encoding': headers['transfer-encoding'],
})

/** A direct request (origin form) to the proxy's own address, with Node's http. */
async function direct(port: number, method: string, path: string) {
  const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false })
  req.end()
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve).once('error', reject)
  })
  let length = 0
  for await (const chunk of res) {
    length += (chunk as Buffer).length
  }
  return { status: res.statusCode, headers: res.headers, length }
}

describe('HEAD of the proxy’s own pages', () => {
  it.each(PAGES)(
    'gives %s the headers of its GET through the proxy, length included',
    async (path) => {
      const proxy = await start()
      const get = await proxyGet(proxy.port, `http://wsgiprox${path}`)
      const head = await proxyGet(proxy.port, `http://wsgiprox${path}`, { method: 'HEAD' })
      expect(get.status).toBe(200)
      expect(get.headers['content-length']).toMatch(/^\d+$/)
      expect(head.status).toBe(200)
      expect(head.body).toBe('')
      expect(compared(head.headers)).toEqual(compared(get.headers))
    }
  )

  it('gives /metrics a Content-Length through the proxy', async () => {
    const proxy = await start()
    const head = await proxyGet(proxy.port, 'http://wsgiprox/metrics', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toMatch(/^application\/openmetrics-text/)
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100)
    expect(head.headers['transfer-encoding']).toBeUndefined()
  })

  it('gives the same headers inside a TLS tunnel to the download host', async () => {
    const proxy = await start()
    const tls = await httpsTunnel(proxy.port, 'wsgiprox:443', 'wsgiprox', proxy.caPem)
    const over = tls as unknown as Socket
    for (const path of ['/download/pem', '/download/', '/proxy.pac']) {
      const get = await requestOver(over, path, { host: 'wsgiprox' })
      const head = await requestOver(over, path, { host: 'wsgiprox', method: 'HEAD' })
      expect(get.status).toBe(200)
      expect(head.body).toBe('')
      expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(get.body))
      expect(compared(head.headers)).toEqual(compared(get.headers))
    }
    tls.destroy()
  })

  it('gives the PAC file on the proxy’s own address the headers of its GET', async () => {
    const proxy = await start()
    const get = await direct(proxy.port, 'GET', '/proxy.pac')
    const head = await direct(proxy.port, 'HEAD', '/proxy.pac')
    expect(get.headers['content-type']).toBe('application/x-ns-proxy-autoconfig')
    expect(Number(get.headers['content-length'])).toBe(get.length)
    expect(head.length).toBe(0)
    expect(compared(head.headers)).toEqual(compared(get.headers))
  })

  it.skipIf(missing('curl'))('shows curl -I the length of the body curl gets', async () => {
    const proxy = await start()
    const curl = promisify(execFile)
    const proxied = ['-sS', '-x', proxy.url, 'http://wsgiprox/download/pem']
    const { stdout: pem } = await curl(toolPath('curl'), proxied)
    const { stdout: head } = await curl(toolPath('curl'), ['-I', ...proxied])
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    expect(head).toMatch(/\r\ncontent-type: application\/x-x509-ca-cert\r\n/i)
    expect(head).toMatch(new RegExp(`\\r\\ncontent-length: ${String(pem.length)}\\r\\n`, 'i'))
    const direct = `${proxy.url}/proxy.pac`
    const { stdout: pac } = await curl(toolPath('curl'), ['-sS', direct])
    const { stdout: pacHead } = await curl(toolPath('curl'), ['-sSI', direct])
    expect(pacHead).toMatch(new RegExp(`\\r\\ncontent-length: ${String(pac.length)}\\r\\n`, 'i'))
  })
})
