/**
 * `requests` as a test asserts on it: in the order the requests were asked, though each record
 * comes when its response ends.
 */
import { Hono } from 'hono'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'

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
