import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { Started } from './helpers/spawn'
import { runCli, startListening, TSX_IMPORT } from './helpers/spawn'
import { describeWith, hasNode24, NODE24, runs } from './helpers/tools'
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

  it('replay.ts serves its archive through the proxy, http and https, and nothing live', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-example-'))
    const port = await run('replay.ts', {}, cwd)
    const home = await proxyGet(port, 'http://example.com/')
    expect(home.status).toBe(200)
    expect(home.body).toBe('<title>Home</title><a href="/about">About</a>\n')
    expect(home.headers['memento-datetime']).toBe('Wed, 01 Jan 2020 00:00:00 GMT')
    const caPem = readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8')
    const tls = await httpsTunnel(port, 'example.com:443', 'example.com', caPem)
    const about = await requestOver(tls, '/about', { host: 'example.com' })
    tls.destroy()
    expect(about.status).toBe(200)
    expect(about.body).toBe('<title>About</title>archived in 2020\n')
    expect((await proxyGet(port, 'http://example.com/missing')).status).toBe(404)
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

/**
 * Run an example suite (examples/testing-*.test.ts) with vitest in a child process, as its
 * header says to, and resolve with the count of tests that passed; a failing one rejects.
 */
async function suite(file: string, env: Record<string, string> = {}): Promise<number> {
  const vitest = join(root, 'node_modules/vitest/vitest.mjs')
  const args = [vitest, 'run', '--config', 'examples/vitest.config.ts', `examples/${file}`]
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
  })
  return Number(/Tests\s+(\d+) passed/.exec(stdout)?.[1] ?? 0)
}

const hasChromium = existsSync('/usr/bin/chromium')
const hasClients = runs('curl') && runs('/usr/bin/python3', ['-c', 'import requests'])

describe('testing examples', { timeout: 90_000 }, () => {
  it('testing-vitest.test.ts fakes the API for fetch in process, a new fake per test', async () => {
    expect(await suite('testing-vitest.test.ts')).toBe(2)
  })

  it('testing-fakes.ts fakes the API for curl run by wsgiprox -- COMMAND', async () => {
    const fakes = join(root, 'examples/testing-fakes.ts')
    const url = 'https://api.example.com/v1/user'
    const { code, stdout } = await runCli(['--app', fakes, '--', 'curl', '-sS', '--fail', url])
      .exited
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ name: 'ada' })
  })
})

describeWith('curl, python3 requests and node 24', hasClients && hasNode24)(
  'testing examples with child processes',
  { timeout: 90_000 },
  () => {
    it('testing-children.test.ts fakes the API for curl, python and node -e', async () => {
      expect(await suite('testing-children.test.ts', { NODE24 })).toBe(3)
    })
  }
)

describeWith('curl and python3 requests', hasClients)(
  'testing examples with child processes, on the Node running the tests',
  { timeout: 90_000 },
  () => {
    // As a user runs it, with no NODE24: a Node before 22.21 ignores NODE_USE_ENV_PROXY.
    it('testing-children.test.ts fakes the API for node -e on this Node too', async () => {
      expect(await suite('testing-children.test.ts')).toBe(3)
    })
  }
)

describeWith('chromium', hasChromium)('testing examples in chromium', { timeout: 120_000 }, () => {
  it('testing-chromium.test.ts serves a page, a wss echo and a worker fetch', async () => {
    expect(await suite('testing-chromium.test.ts')).toBe(1)
  })

  it('testing-app-server.test.ts fakes the API for the app server and the CDN for the browser', async () => {
    expect(await suite('testing-app-server.test.ts')).toBe(1)
  })
})
