/**
 * Child processes through a test proxy with `proxy.env` merged into their environment, and no
 * change to their code: curl, Python requests and Node's own fetch (Node 24 and 22.21+ read the
 * proxy variables when NODE_USE_ENV_PROXY=1; an earlier Node child first sets undici's
 * EnvHttpProxyAgent, the two lines docs/testing.md gives). Each verifies TLS against the CA
 * file in the env.
 *
 *   npx vitest --run --config examples/vitest.config.ts examples/testing-children.test.ts
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startProxy } from 'wsgiprox'
import type { TestProxy } from 'wsgiprox'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** The Node to run; test/examples.test.ts passes a Node 24 as NODE24 where it has one. */
const NODE = process.env.NODE24 ?? 'node'
/** Whether that Node reads HTTPS_PROXY itself under NODE_USE_ENV_PROXY (24+, 22.21+). */
const [major = 0, minor = 0] = (await run(NODE, ['-p', 'process.versions.node'])).stdout
  .split('.')
  .map(Number)
const readsProxyEnv = major >= 24 || (major === 22 && minor >= 21)
/** For an earlier Node: what a child's start-up code does instead (docs/testing.md). */
const useEnvProxy = readsProxyEnv
  ? ''
  : "const u = require('undici'); u.setGlobalDispatcher(new u.EnvHttpProxyAgent()); "

let proxy: TestProxy
beforeAll(async () => {
  const api = new Hono().get('/v1/user', (c) => c.json({ name: 'ada' }))
  proxy = await startProxy({
    proxyApps: { 'api.example.com': api },
  })
})
afterAll(() => proxy.close())

const child = (command: string, args: string[]) =>
  run(command, args, { env: { ...process.env, ...proxy.env } })

test('curl', async () => {
  const { stdout } = await child('curl', ['-sS', '--fail', 'https://api.example.com/v1/user'])
  expect(JSON.parse(stdout)).toEqual({ name: 'ada' })
})

test('python requests', async () => {
  const script = `import requests; print(requests.get('https://api.example.com/v1/user').json()['name'])`
  expect((await child('python3', ['-c', script])).stdout).toBe('ada\n')
})

test('node -e "fetch(...)"', async () => {
  const script = `${useEnvProxy}fetch('https://api.example.com/v1/user').then((r) => r.json()).then((u) => console.log(u.name))`
  expect((await child(NODE, ['-e', script])).stdout).toBe('ada\n')
})
