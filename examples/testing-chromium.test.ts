/**
 * Headless Chromium through a test proxy with `proxy.chromiumArgs` and nothing else: the page,
 * its wss:// socket and a Web Worker's fetch all reach the fakes, and certificates are verified
 * (the arguments pin the proxy's CA; they do not turn verification off).
 *
 *   npx vitest --run --config examples/vitest.config.ts examples/testing-chromium.test.ts
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startProxy } from 'wsgiprox'
import type { TestProxy } from 'wsgiprox'

const PAGE = `<!doctype html><title>fake site</title><script type="module">
  const socket = new WebSocket('wss://www.example.com/echo')
  const echoed = new Promise((resolve) => {
    socket.onopen = () => socket.send('hello')
    socket.onmessage = (event) => resolve(event.data)
  })
  const worker = new Worker('/worker.js')
  const fromWorker = new Promise((resolve) => (worker.onmessage = (event) => resolve(event.data)))
  window.results = Promise.all([echoed, fromWorker])
</script>`

const WORKER = `fetch('https://api.example.com/v1/user')
  .then((response) => response.json())
  .then((user) => postMessage(user.name), (error) => postMessage(String(error)))`

const site = new Hono()
  .get('/', (c) => c.html(PAGE))
  .get('/worker.js', (c) => c.body(WORKER, 200, { 'content-type': 'text/javascript' }))
  .get(
    '/echo',
    upgradeWebSocket(() => ({
      onMessage: (event, ws) => {
        ws.send(`echo: ${event.data as string}`)
      },
    }))
  )

// The worker's fetch is cross-origin, so the fake answers with CORS headers, as the API would.
const api = new Hono().get('/v1/user', (c) =>
  c.json({ name: 'ada' }, 200, { 'access-control-allow-origin': '*' })
)

let proxy: TestProxy
let browser: Browser
beforeAll(async () => {
  proxy = await startProxy({
    proxyApps: { 'www.example.com': site, 'api.example.com': api },
  })
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: proxy.chromiumArgs,
  })
})
afterAll(async () => {
  await browser.close()
  await proxy.close()
})

test('a page, its wss echo and a worker fetch are all served by the fakes', async () => {
  const page = await browser.newPage()
  await page.goto('https://www.example.com/')
  expect(await page.evaluate('window.results')).toEqual(['echo: hello', 'ada'])
  expect(proxy.requests.map((r) => r.url)).toContain('https://api.example.com/v1/user')
})
