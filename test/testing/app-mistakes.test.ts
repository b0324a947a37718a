/**
 * Mistakes in a fake that a test author wants to hear about, rather than a 404 from the main app
 * that looks like a real answer.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { getThrough } from '../helpers/kit'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const get = (url: string) => getThrough(proxy, url)

/** A route handler that builds its answer and forgets to return it. */
const forgets = (c: Context) => {
  void c.json({ name: 'ada' })
}

const main = () => new Response('main app\n', { status: 404 })

describe('a proxy app route that returns nothing', () => {
  it.each([
    ['a route', () => new Hono().get('/v1/user', forgets as never)],
    [
      'an async route',
      () =>
        new Hono().get('/v1/user', (async (c: Context) => {
          await Promise.resolve()
          forgets(c)
        }) as never),
    ],
  ])('is a 500 and an error naming %s, not a fall-through', async (_, api) => {
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': api() } })
    expect(await get('https://api.example.com/v1/user')).toBe(
      '500 Internal Server Error: the app failed\n'
    )
    expect(proxy.errors.map(({ error, context }) => `${context.phase}: ${error.message}`)).toEqual([
      'app: the route GET /v1/user of the proxy app for api.example.com returned no Response: return one (return c.json(...)), or call next() to let the request fall through',
    ])
  })

  it('is the same 500 as Hono gives when middleware ran before it', async () => {
    const api = new Hono()
      .use(async (_, next) => {
        await next()
      })
      .get('/v1/user', forgets as never)
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': api } })
    expect(await get('https://api.example.com/v1/user')).toBe(
      '500 Internal Server Error: the app failed\n'
    )
    expect(proxy.errors.map(({ error }) => error.message)).toEqual([
      expect.stringMatching(/^Context is not finalized/),
    ])
  })
})

describe('a proxy app request that is not handled', () => {
  it('falls through with no error when no route matches, or the route calls next()', async () => {
    const api = new Hono().get('/v1/next', (_, next) => next())
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': api } })
    expect(await get('https://api.example.com/v1/other')).toBe('404 main app\n')
    expect(await get('https://api.example.com/v1/next')).toBe('404 main app\n')
    expect(proxy.errors).toEqual([])
  })
})

describe('a proxy app with an onError of its own', () => {
  const withOwnHandler = () =>
    new Hono()
      .get('/v1/user', () => {
        throw new Error('user failed')
      })
      .get('/v1/gone', () => {
        throw new HTTPException(410, { message: 'gone' })
      })
      .onError((error, c) =>
        'getResponse' in error ? c.text('own: gone', 410) : c.text(`own: ${error.message}`, 500)
      )

  it('answers with its handler, and the error is in proxy.errors with the host', async () => {
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': withOwnHandler() } })
    expect(await get('https://api.example.com/v1/user')).toBe('500 own: user failed')
    expect(proxy.errors.map(({ error, context }) => [error.message, context])).toEqual([
      ['user failed', { phase: 'app', host: 'api.example.com' }],
    ])
  })

  it('keeps an HTTPException an answer, out of proxy.errors, after setProxyApp too', async () => {
    proxy = await startProxy(main, { proxyApps: { 'api.example.com': null } })
    proxy.setProxyApp('api.example.com', withOwnHandler())
    expect(await get('https://api.example.com/v1/gone')).toBe('410 own: gone')
    expect(await get('https://api.example.com/v1/other')).toBe('404 main app\n')
    expect(proxy.errors).toEqual([])
  })
})
