import { EventEmitter } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { commonLine } from '../src/cli/access-log'
import { main } from '../src/cli/index'
import type { StopControl } from '../src/cli/shutdown'
import { proxyGet } from './helpers/clients'

let dir: string
const stops: (() => Promise<void>)[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-cli-log-'))
})
afterEach(async () => {
  for (const stop of stops.splice(0)) {
    await stop()
  }
  await rm(dir, { recursive: true, force: true })
})

/** Starts `wsgiprox` in-process on port 0; resolves with its port and what it printed. */
async function serve(...flags: string[]) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  // Its own signals, so that stopping it ends neither the test process nor another proxy.
  const signals = new EventEmitter()
  const control: StopControl = { signals }
  const exited = new Promise<number>((resolve) => {
    control.exit = resolve
  })
  const code = await main(
    ['--port', '0', '--ca-file', join(dir, 'ca.pem'), ...flags],
    { stdout, stderr },
    control
  )
  expect(code).toBeUndefined()
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1])
  stops.push(async () => {
    signals.emit('SIGTERM')
    expect(await exited).toBe(0)
  })
  const lines = async (count: number) => {
    for (let i = 0; i < 200 && out.trim().split('\n').length < count; i++) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    return out.trim().split('\n')
  }
  return { port, lines, bannerLines: out.trim().split('\n').length }
}

describe('wsgiprox access lines', () => {
  it('prints one common-style line per request by default', async () => {
    const { port, lines, bannerLines } = await serve('--prefix', '/demo/')
    await proxyGet(port, 'http://example.com/hello?x=1')
    const line = (await lines(bannerLines + 1)).at(-1) ?? ''
    expect(line).toMatch(
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET http:\/\/example\.com\/hello\?x=1 HTTP\/1\.1" 200 \d+ -> \/demo\/http:\/\/example\.com\/hello\?x=1 \(app\) \d+\.\d ms$/
    )
  })

  it('prints JSON records with --log-format json', async () => {
    const { port, lines, bannerLines } = await serve('--log-format', 'json')
    await proxyGet(port, 'http://example.com/j')
    const record = JSON.parse((await lines(bannerLines + 1)).at(-1) ?? '{}') as Record<
      string,
      unknown
    >
    expect(record).toMatchObject({
      type: 'request',
      method: 'GET',
      url: 'http://example.com/j',
      status: 200,
    })
  })

  it('prints no access line with --quiet', async () => {
    const { port, lines, bannerLines } = await serve('--quiet')
    await proxyGet(port, 'http://example.com/q')
    await proxyGet(port, 'http://example.com/q2')
    expect(await lines(bannerLines)).toHaveLength(bannerLines)
  })

  it('refuses an unknown --log-format with exit code 2', async () => {
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    expect(await main(['--log-format', 'xml'], { stdout: new PassThrough(), stderr })).toBe(2)
    expect(err).toMatch(/^wsgiprox: --log-format must be common or json, got "xml"/)
  })

  it('shows tunnels with TLS and ALPN in the common line', () => {
    const line = commonLine({
      type: 'request',
      time: new Date(Date.UTC(2026, 10, 29, 5, 30, 0)),
      client: { address: '127.0.0.1', port: 5000 },
      method: 'GET',
      url: 'https://example.com/a',
      path: '/https://example.com/a',
      route: 'app',
      status: 200,
      bytes: 512,
      durationMs: 3.14,
      httpVersion: '2.0',
      tunnel: { host: 'example.com', port: 443, tls: true, alpn: 'h2' },
      aborted: false,
    })
    expect(line).toBe(
      '127.0.0.1 - - [29/Nov/2026:05:30:00 +0000] "GET https://example.com/a HTTP/2.0" 200 512 -> /https://example.com/a (app) 3.1 ms tls h2'
    )
  })
})
