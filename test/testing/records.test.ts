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
import { within } from '../helpers/within'

let proxy: TestProxy
afterEach(async () => {
  await proxy.close()
})

describe('proxy.requests', () => {
  it('lists a slow request that arrived first before a quick one that ended first', async () => {
    let arrived!: () => void
    const slowArrived = new Promise<void>((resolve) => (arrived = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const api = new Hono()
      .get('/slow', async (c) => {
        arrived()
        await released
        return c.text('slow')
      })
      .get('/quick', (c) => {
        release()
        return c.text('quick')
      })
    proxy = await startProxy(() => new Response('main'), { proxyApps: { 'api.example.com': api } })
    const init = { dispatcher: proxy.dispatcher } as RequestInit
    const slow = fetch('https://api.example.com/slow', init).then((r) => r.text())
    await slowArrived
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

describe('proxy.requests after close()', () => {
  it.each([['https://api.example.com/hung'], ['http://api.example.com/hung']])(
    'holds the request close() cut (%s) as 499, aborted, once close() resolves',
    async (url) => {
      let arrived!: () => void
      const asked = new Promise<void>((resolve) => (arrived = resolve))
      proxy = await startProxy(() => {
        arrived()
        return new Promise<Response>(() => {})
      })
      const failed = fetch(url, { dispatcher: proxy.dispatcher } as RequestInit).then(
        () => false,
        () => true
      )
      await asked
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
