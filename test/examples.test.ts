import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { proxyGet } from './helpers/clients'
import type { Started } from './helpers/spawn'
import { startListening, TSX_IMPORT } from './helpers/spawn'
import { closeSocket, nextMessage, tunnelledSocket } from './helpers/websockets'

const root = resolve(import.meta.dirname, '..')
let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

async function run(
  example: string,
  env: Record<string, string> = {},
  // A fresh working directory, so the example's CA lands in a temporary ./ca.
  cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-example-'))
) {
  started = await startListening(['--import', TSX_IMPORT, join(root, 'examples', example)], {
    cwd,
    // tsx reads the tsconfig of its working directory; this one maps 'wsgiprox' to src/.
    env: { PORT: '0', TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), ...env },
  })
  return started.port
}

describe('examples', () => {
  it('hono-app.ts answers a proxied request through its prefix', async () => {
    const port = await run('hono-app.ts')
    const reply = await proxyGet(port, 'http://example.com/hello')
    expect(reply.body).toBe('You asked for http://example.com/hello through wsgiprox\n')
  }, 30_000)

  it('fetch-handler.ts answers with the translated path', async () => {
    const port = await run('fetch-handler.ts')
    expect((await proxyGet(port, 'http://example.com/x?y')).body).toBe(
      'GET /http://example.com/x?y\n'
    )
  }, 30_000)

  it('proxy-apps.ts routes per host and falls through', async () => {
    const port = await run('proxy-apps.ts')
    expect((await proxyGet(port, 'http://proxy-app-1/path/')).body).toBe('proxy-app-1: /path/\n')
    expect((await proxyGet(port, 'http://proxy-app-1/other')).body).toBe(
      'main app: /other via proxy-app-1\n'
    )
    expect((await proxyGet(port, 'http://proxy-app-2/foo')).body).toBe('proxy-app-2: foo\n')
    expect((await proxyGet(port, 'http://proxy-alias/x')).body).toBe(
      'main app: /x via proxy-alias\n'
    )
  }, 30_000)

  it('resolvers.ts resolves with a function, and asks for credentials with AUTH=1', async () => {
    const port = await run('resolvers.ts')
    expect((await proxyGet(port, 'http://example.com/a')).body).toBe(
      'app sees /by-ip/127.0.0.1/http://example.com/a\n'
    )
    await started?.stop()
    const authPort = await run('resolvers.ts', { AUTH: '1' })
    expect((await proxyGet(authPort, 'http://example.com/a')).status).toBe(407)
    const auth = { 'proxy-authorization': `Basic ${Buffer.from('my-coll:').toString('base64')}` }
    expect((await proxyGet(authPort, 'http://example.com/a', { headers: auth })).body).toBe(
      'app sees /my-coll/http://example.com/a\n'
    )
  }, 30_000)

  it('attach.ts serves direct and proxied requests on one server', async () => {
    const port = await run('attach.ts')
    expect(await (await fetch(`http://127.0.0.1:${port}/direct`)).text()).toBe(
      '/direct (proxy host: none)\n'
    )
    expect((await proxyGet(port, 'http://example.com/p')).body).toBe(
      '/proxied/http://example.com/p (proxy host: wsgiprox)\n'
    )
  }, 30_000)

  it('cluster.ts answers from two workers on one port', async () => {
    const port = await run('cluster.ts', { WORKERS: '2' })
    const workers = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const { body } = await proxyGet(port, `http://example.com/${i}`)
      const match = /^worker (\d+) answers \/http:\/\/example\.com\/\d\n$/.exec(body)
      expect(match, body).not.toBeNull()
      workers.add(match?.[1] ?? '')
    }
    expect(workers.size).toBe(2)
  }, 30_000)

  it('websockets.ts echoes over wss through the proxy, verified against its CA', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-example-'))
    const port = await run('websockets.ts', {}, cwd)
    const caPem = readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8')
    const ws = tunnelledSocket(port, 'wss://example.com/chat?room=1', caPem)
    const hello = nextMessage(ws)
    await once(ws, 'open')
    expect((await hello).data.toString()).toBe(
      'connected to /echo/https://example.com/chat?room=1 via wsgiprox'
    )
    expect(ws.extensions).toMatch(/^permessage-deflate/)
    ws.send('hi')
    expect((await nextMessage(ws)).data.toString()).toBe('hi')
    await closeSocket(ws)
  }, 30_000)
})
