/**
 * A vitest suite faking https://api.example.com for code that calls Node's fetch: one proxy for
 * the file, a new fake per test with setProxyApp, and assertions on what was asked.
 *
 *   npx vitest --run --config examples/vitest.config.ts examples/testing-vitest.test.ts
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { startProxy } from 'wsgiprox'
import type { TestProxy } from 'wsgiprox'

/** The code under test: it takes a dispatcher the way it would take any fetch option. */
async function greeting(id: number, init: RequestInit = {}): Promise<string> {
  const response = await fetch(`https://api.example.com/v1/users/${id}`, init)
  if (!response.ok) {
    return `no user ${id} (${response.status})`
  }
  const user = (await response.json()) as { name: string }
  return `Hello, ${user.name}`
}

let proxy: TestProxy
beforeAll(async () => {
  // No host named here: setProxyApp makes api.example.com a proxy host in each test.
  proxy = await startProxy()
})
afterAll(() => proxy.close())
beforeEach(() => {
  proxy.clear()
})

// proxy.fetchInit ({ dispatcher }) sends fetch through the proxy and trusts its CA; nothing else
// changes.
test('greets the user the API knows', async () => {
  proxy.setProxyApp(
    'api.example.com',
    new Hono().get('/v1/users/:id', (c) => c.json({ name: `user ${c.req.param('id')}` }))
  )
  expect(await greeting(7, proxy.fetchInit)).toBe('Hello, user 7')
  expect(proxy.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
    'GET https://api.example.com/v1/users/7 200',
  ])
  // The headers the fake was sent, as mockttp's seen requests give them.
  expect(proxy.requests[0]?.headers?.get('host')).toBe('api.example.com')
})

test('says so when the API answers 404', async () => {
  proxy.setProxyApp(
    'api.example.com',
    new Hono().get('/v1/users/:id', (c) => c.json({ error: 'gone' }, 404))
  )
  expect(await greeting(8, proxy.fetchInit)).toBe('no user 8 (404)')
  expect(proxy.requests).toHaveLength(1)
})
