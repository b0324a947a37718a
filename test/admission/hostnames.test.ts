import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { runCa } from '../../src/cli/ca'
import { echoApp } from '../helpers/apps'
import { rawExchange } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

/** Names that a validator trusting domainToASCII would have cut short rather than refused. */
const TRUNCATED = [
  'a.com/evil',
  'a.com/../../../../tmp/evil',
  'a.com?x',
  'a.com#x',
  'a.com\\x',
  'user@a.com',
  'a.com%2fevil',
  'a.com\tx',
]

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe('host names are refused, never truncated', () => {
  it.each(TRUNCATED)('answers 400 to a CONNECT to %j', async (host) => {
    running = await startProxy(echoApp())
    const reply = await rawExchange(running.port, `CONNECT ${host}:443 HTTP/1.1\r\nHost: x\r\n\r\n`)
    // Node's parser refuses some of these before the proxy sees them; either way, one line says why.
    expect(reply).toMatch(
      /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\n(Invalid CONNECT target|Malformed request): [^\n]+\n$/
    )
  })

  it.each(['a.com%2fevil', 'a.com\\evil', 'exa mple.com', 'a..com', '-a.com'])(
    'answers 400 to an absolute-form request for %j',
    async (host) => {
      running = await startProxy(echoApp())
      const reply = await rawExchange(
        running.port,
        `GET http://${host}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`
      )
      expect(reply).toMatch(/^HTTP\/1\.1 400 /)
      expect(reply).toMatch(/\r\n\r\n.+\n$/)
    }
  )

  it.each(['a.com/evil', 'evil.com/CN=x', 'a.com?x'])(
    'refuses `wsgiprox ca issue %j` with one line and no file',
    async (host) => {
      const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-hostnames-'))
      try {
        const stderr = new PassThrough()
        const lines: string[] = []
        stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
        const out = join(dir, 'out')
        const code = await runCa(['issue', host, '--ca-file', join(dir, 'ca.pem'), '--out', out], {
          stdout: new PassThrough(),
          stderr,
        })
        expect(code).not.toBe(0)
        expect(lines.join('')).toMatch(/^wsgiprox: invalid host .+\n$/)
        expect(await readdir(dir)).not.toContain('out')
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
  )
})
