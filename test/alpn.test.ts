import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { missing } from './helpers/tools'

const run = promisify(execFile)

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe('ALPN inside intercepted TLS', () => {
  it.each([
    [['http/1.0'], 'http/1.0'],
    [['http/1.1'], 'http/1.1'],
    [['http/1.0', 'http/1.1'], 'http/1.1'],
    [['spdy/3', 'http/1.1'], 'http/1.1'],
    [['http/1.1', 'h2'], 'h2'],
  ])('answers a client offering %j with %s', async (offered, chosen) => {
    running = await startProxy(echoApp())
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = tlsConnect({
      socket,
      servername: 'example.com',
      ca: running.caPem,
      ALPNProtocols: offered,
    })
    await once(tls, 'secureConnect')
    expect(tls.alpnProtocol).toBe(chosen)
    tls.destroy()
  })

  it.skipIf(missing('curl'))('serves curl -0 (HTTP/1.0 over TLS) through the proxy', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-alpn-'))
    try {
      const caFile = join(dir, 'ca.pem')
      await writeFile(caFile, running.caPem)
      const { stdout } = await run('curl', [
        '-sS',
        '-0',
        '--cacert',
        caFile,
        '-x',
        running.url,
        'https://example.com/old',
      ])
      expect((JSON.parse(stdout) as Echo).path).toBe('/https://example.com/old')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
