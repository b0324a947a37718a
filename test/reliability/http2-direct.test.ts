import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { connect as http2Connect, constants } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { promisify } from 'node:util'
import { DIRECT_HTTP2_REASON } from '../../src/inbound/http2-direct'
import type { LogRecord } from '../../src/log/records'
import type { ProxyOptions } from '../../src/types'
import { echoApp } from '../helpers/apps'
import { proxyGet, rawExchange, splitFirstWrite } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

const run = promisify(execFile)

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(options: ProxyOptions = {}): Promise<RunningProxy> {
  running = await startProxy(echoApp(), options)
  return running
}

/** A good proxy request after a bad case: the proxy still serves. */
async function expectServes(proxy: RunningProxy): Promise<void> {
  expect((await proxyGet(proxy.port, 'http://example.com/')).status).toBe(200)
}

/** A node:http2 session straight to the proxy, once its request for `path` was answered. */
async function answeredSession(proxy: RunningProxy, path: string): Promise<ClientHttp2Session> {
  const session = http2Connect(proxy.url)
  session.on('error', () => {})
  const req = session.request({ ':path': path })
  req.resume()
  await once(req, 'end')
  return session
}

describe('HTTP/2 sent straight to the proxy port', () => {
  it('answers in HTTP/2 a client whose preface comes in two reads', async () => {
    const proxy = await start()
    const socket = netConnect(proxy.port, '127.0.0.1')
    await once(socket, 'connect')
    const session = http2Connect(proxy.url, { createConnection: () => splitFirstWrite(socket) })
    session.on('error', () => {})
    const req = session.request({ ':path': '/' })
    req.on('error', () => {})
    const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
    expect(headers[':status']).toBe(505)
    session.destroy()
    await expectServes(proxy)
  })

  it.each([
    ['with SOCKS on', {}],
    ['with SOCKS off', { socks: false }],
  ])('answers node:http2 with 505, a one-line reason and GOAWAY, %s', async (_name, options) => {
    const proxy = await start(options)
    const session = http2Connect(proxy.url)
    session.on('error', () => {})
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve))
    const req = session.request({ ':path': '/' })
    const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
    let body = ''
    for await (const chunk of req) {
      body += String(chunk)
    }
    expect(headers[':status']).toBe(505)
    expect(body).toBe(`${DIRECT_HTTP2_REASON}\n`)
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR)
    session.destroy()
    await expectServes(proxy)
  })

  it('closes the proxy at once after the client destroyed its session', async () => {
    const proxy = await start()
    const session = await answeredSession(proxy, '/')
    // The proxy's session is destroyed, and its 'close' not yet emitted, when close() comes.
    session.destroy()
    await expect(proxy.close()).resolves.toBeUndefined()
  })

  it('gives each 505 an access record, as the proxy’s own answer', async () => {
    const records: LogRecord[] = []
    const proxy = await start({ onLog: (record) => records.push(record) })
    const session = await answeredSession(proxy, '/page?x=1')
    session.destroy()
    await vi.waitFor(() => {
      expect(records).toHaveLength(1)
    })
    expect(records[0]).toMatchObject({
      type: 'request',
      client: { address: '127.0.0.1' },
      method: 'GET',
      url: '/page?x=1',
      path: undefined,
      route: 'proxy',
      status: 505,
      bytes: Buffer.byteLength(`${DIRECT_HTTP2_REASON}\n`),
      httpVersion: '2.0',
      tunnel: undefined,
      aborted: false,
    })
  })

  it('answers curl --http2-prior-knowledge with 505 and the reason', async () => {
    const proxy = await start()
    const { stdout } = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-w',
      '\n%{http_code} %{http_version}',
      `${proxy.url}/`,
    ])
    expect(stdout).toBe(`${DIRECT_HTTP2_REASON}\n\n505 2`)
    await expectServes(proxy)
  })

  it('answers the preface in HTTP/1.1 with 505 and a reason when HTTP/2 is off', async () => {
    const proxy = await start({ http2: false, socks: false })
    const reply = await rawExchange(proxy.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    expect(reply).toMatch(/^HTTP\/1\.1 505 /)
    expect(reply).toContain('\r\n\r\nThis port speaks HTTP/1.1, not HTTP/2\n')
    await expectServes(proxy)
  })
})
