import { execFile } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { commonLine } from '../src/cli/access-log'
import { main } from '../src/cli/index'
import type { StopControl } from '../src/cli/shutdown'
import { proxyGet, rawExchange } from './helpers/clients'
import { canListenOnIpv6 } from './helpers/ipv6'
import { missing, toolPath } from './helpers/tools'

const run = promisify(execFile)

const hasIpv6 = await canListenOnIpv6()

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
  let err = ''
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
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
  const port = Number(/listening on http:\/\/(?:127\.0\.0\.1|\[::1\]):(\d+)/.exec(out + err)?.[1])
  stops.push(async () => {
    signals.emit('SIGTERM')
    expect(await exited).toBe(0)
  })
  const split = () => out.split('\n').filter((line) => line !== '')
  const lines = async (count: number) => {
    for (let i = 0; i < 200 && split().length < count; i++) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    return split()
  }
  return { port, lines, bannerLines: split().length, err: () => err }
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

  it('prints only JSON records on stdout with --log-format json, the banner on stderr', async () => {
    const { port, lines, bannerLines, err } = await serve('--log-format', 'json')
    expect(bannerLines).toBe(0)
    expect(err()).toContain(`wsgiprox listening on http://127.0.0.1:${port}`)
    await proxyGet(port, 'http://example.com/j')
    await proxyGet(port, 'http://example.com/k')
    const stdout = await lines(2)
    const records = stdout.map((line) => JSON.parse(line) as Record<string, unknown>)
    const record = records.find((candidate) => candidate.type === 'request')
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

  it('escapes quotes in the request target of the common line', async () => {
    const { port, lines, bannerLines } = await serve()
    await rawExchange(port, 'GET /q"uote HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    const line = (await lines(bannerLines + 1)).at(-1) ?? ''
    expect(line).toContain('"GET /q\\"uote HTTP/1.1" ')
  })

  it.each([
    [
      'a control byte in the target',
      'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n',
      '"GET /a\\x01b HTTP/1.1" 400',
    ],
    [
      'headers too large',
      `GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      '"GET /big HTTP/1.1" 431',
    ],
    [
      'a request line that is not HTTP',
      '\x16\x03\x01 hello\r\n\r\n',
      '"\\x16\\x03\\x01 hello HTTP/1.1" 400',
    ],
  ])('prints the line of a request the parser refuses: %s', async (_, request, expected) => {
    const { port, lines, bannerLines } = await serve()
    const answer = await rawExchange(port, Buffer.from(request, 'latin1'))
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /)
    const line = (await lines(bannerLines + 1)).at(-1) ?? ''
    // The status, then the bytes of the body the client got.
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4)
    expect(body).toMatch(/\n$/)
    expect(line).toContain(`${expected} ${Buffer.byteLength(body)} `)
    expect(line).toMatch(/ \(proxy\) /)
  })

  // The banner's curl line, run as printed: the address in brackets (RFC 3986 §3.2.2).
  it.skipIf(!hasIpv6 || missing('curl'))(
    'prints a banner for --host ::1 whose curl line works',
    async () => {
      const { port, err } = await serve('--host', '::1', '--log-format', 'json')
      expect(err()).toContain(`wsgiprox listening on http://[::1]:${port}\n`)
      const curl = /try: (curl -x \S+ \S+)\n/.exec(err())?.[1] ?? ''
      expect(curl).toBe(`curl -x http://[::1]:${port} http://example.com/`)
      const { stdout } = await run(toolPath('curl'), ['-sS', ...curl.split(' ').slice(1)])
      expect(stdout).toContain('http://example.com/')
    }
  )

  it.skipIf(missing('curl'))(
    'says so when a client refuses the certificate because it does not trust the CA',
    async () => {
      const { port, err } = await serve('--proxy-host', 'px')
      // curl with its own roots only: it answers the proxy's certificate with unknown_ca.
      const curl = run(toolPath('curl'), [
        '-sS',
        '-x',
        `http://127.0.0.1:${port}`,
        'https://a.test/',
      ])
      await expect(curl).rejects.toThrow(/SSL certificate problem/)
      for (let i = 0; i < 200 && !err().includes('error (tls a.test)'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(err()).toMatch(
        /^wsgiprox: error \(tls a\.test\): .*SSL alert number 48; the client refused the certificate: it does not trust the CA yet \(http:\/\/px\/download\/\)$/m
      )
    }
  )

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
      websocket: false,
    })
    expect(line).toBe(
      '127.0.0.1 - - [29/Nov/2026:05:30:00 +0000] "GET https://example.com/a HTTP/2.0" 200 512 -> /https://example.com/a (app) 3.1 ms tls h2'
    )
  })
})
