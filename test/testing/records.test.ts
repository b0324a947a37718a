/**
 * `requests` as a test asserts on it: in the order the requests were asked, though each record
 * comes when its response ends.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { WebSocket } from 'undici'
import { once } from 'node:events'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import type { App } from '../../src/types'
import { within } from '../helpers/within'

let proxy: TestProxy
afterEach(async () => {
  await proxy.close()
})

/** Something that happens once, and the promise of it. */
function signal(): { happened: Promise<void>; happen: () => void } {
  let happen!: () => void
  const happened = new Promise<void>((resolve) => (happen = resolve))
  return { happened, happen }
}

/** A fake's handler that answers with `answer` once released, and tells when it was called. */
function held(answer: () => Response) {
  const arrived = signal()
  const released = signal()
  const handler = async () => {
    arrived.happen()
    await released.happened
    return answer()
  }
  return { arrived, released, handler }
}

describe('proxy.requests', () => {
  it('lists a slow request that arrived first before a quick one that ended first', async () => {
    const { arrived, released, handler } = held(() => new Response('slow'))
    const api = new Hono().get('/slow', handler).get('/quick', (c) => {
      released.happen()
      return c.text('quick')
    })
    proxy = await startProxy(() => new Response('main'), { proxyApps: { 'api.example.com': api } })
    const init = { dispatcher: proxy.dispatcher } as RequestInit
    const slow = fetch('https://api.example.com/slow', init).then((r) => r.text())
    await arrived.happened
    expect(await (await fetch('http://api.example.com/quick', init)).text()).toBe('quick')
    expect(await slow).toBe('slow')
    expect(proxy.requests.map((r) => r.url)).toEqual([
      'https://api.example.com/slow',
      'http://api.example.com/quick',
    ])
    proxy.clear()
    await (await fetch('http://api.example.com/quick', init)).text()
    expect(proxy.requests.map((r) => r.url)).toEqual(['http://api.example.com/quick'])
  })
})

describe('proxy.requests after a fetch', () => {
  it('holds the request once fetch has read the body, though the fake answered from a timer', async () => {
    const api = new Hono().get('/v1/user', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return c.json({ name: 'ada' })
    })
    proxy = await startProxy(() => new Response('main'), { proxyApps: { 'api.example.com': api } })
    const init = { dispatcher: proxy.dispatcher } as RequestInit
    for (const count of [1, 2, 3]) {
      expect(await (await fetch('https://api.example.com/v1/user', init)).json()).toEqual({
        name: 'ada',
      })
      expect(proxy.requests).toHaveLength(count)
    }
  })
})

describe('proxy.requests under fake timers', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('holds what a test asked after clear() and vi.useFakeTimers()', async () => {
    proxy = await startProxy(() => new Response('fake'))
    proxy.clear()
    // The fake clock starts at 0: neither the records nor the dispatcher may go by it.
    vi.useFakeTimers()
    const response = await fetch('https://api.example.com/', {
      dispatcher: proxy.dispatcher,
    } as RequestInit)
    expect(await response.text()).toBe('fake')
    expect(proxy.requests.map(({ url }) => url)).toEqual(['https://api.example.com/'])
  })
})

/**
 * Start a proxy for `api`, whose POST /telemetry is held: the code a first test drives sends it
 * in the background and the test moves on; clear() runs; in the next test the request ends.
 */
async function telemetryAcrossClear(
  api: App,
  arrived: ReturnType<typeof signal>,
  released: ReturnType<typeof signal>
): Promise<{ telemetry: Response; init: RequestInit }> {
  proxy = await startProxy(() => new Response('main'), { proxyApps: { 'api.example.com': api } })
  const init = { dispatcher: proxy.dispatcher } as RequestInit
  const telemetry = fetch('https://api.example.com/telemetry', { ...init, method: 'POST' })
  await arrived.happened
  proxy.clear()
  released.happen()
  return { telemetry: await telemetry, init }
}

describe('proxy.clear()', () => {
  it('leaves out a request asked before it whose response ends after it', async () => {
    const { arrived, released, handler } = held(() => new Response(null, { status: 204 }))
    const api = new Hono()
      .post('/telemetry', handler)
      .get('/v1/user', (c) => c.json({ name: 'ada' }))
    const { telemetry, init } = await telemetryAcrossClear(api, arrived, released)
    expect(telemetry.status).toBe(204)
    await (await fetch('https://api.example.com/v1/user', init)).text()
    expect(proxy.requests.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'GET https://api.example.com/v1/user',
    ])
  })
})

describe('proxy.errors across clear()', () => {
  it('leaves out the error of a request asked before it whose app fails after it', async () => {
    const { arrived, released } = held(() => new Response(null))
    const api = new Hono()
      .post('/telemetry', async () => {
        arrived.happen()
        await released.happened
        throw new Error('telemetry failed')
      })
      .get('/v1/user', () => {
        throw new Error('user failed')
      })
    const { telemetry, init } = await telemetryAcrossClear(api, arrived, released)
    expect(telemetry.status).toBe(500)
    const before = Date.now()
    expect((await fetch('https://api.example.com/v1/user', init)).status).toBe(500)
    const after = Date.now()
    expect(proxy.errors.map(({ error, context }) => `${context.phase} ${error.message}`)).toEqual([
      'app user failed',
    ])
    // When its request arrived: a millisecond either side for the two clocks' rounding.
    const time = proxy.errors[0]?.time.getTime() ?? 0
    expect(time).toBeGreaterThanOrEqual(before - 1)
    expect(time).toBeLessThanOrEqual(after + 1)
  })
})

describe('proxy.requests after close()', () => {
  it.each([['https://api.example.com/hung'], ['http://api.example.com/hung']])(
    'holds the request close() cut (%s) as 499, aborted, once close() resolves',
    async (url) => {
      const arrived = signal()
      proxy = await startProxy(() => {
        arrived.happen()
        return new Promise<Response>(() => {})
      })
      const failed = fetch(url, { dispatcher: proxy.dispatcher } as RequestInit).then(
        () => false,
        () => true
      )
      await arrived.happened
      await proxy.close()
      expect(proxy.requests.map(({ url, status, aborted }) => ({ url, status, aborted }))).toEqual([
        { url, status: 499, aborted: true },
      ])
      expect(await failed).toBe(true)
    }
  )

  it('holds a WebSocket close() ended, once close() resolves', async () => {
    const app = new Hono().get(
      '*',
      upgradeWebSocket(() => ({}))
    )
    proxy = await startProxy(app)
    const socket = new WebSocket('wss://chat.example.com/live', {
      dispatcher: proxy.dispatcher,
    })
    await within(once(socket, 'open'), 'the WebSocket did not open')
    await proxy.close()
    expect(
      proxy.requests.map(({ url, status, websocket }) => ({ url, status, websocket }))
    ).toEqual([{ url: 'https://chat.example.com/live', status: 101, websocket: true }])
  })
})
