/**
 * One proxy for both sides of an end-to-end test: the app server (a child process started with
 * `proxy.env`) fetches https://api.example.com server-side, and the browser (with
 * `proxy.chromiumArgs`) loads the app's page, and the CDN script in it, through the same proxy.
 *
 *   npx vitest --run --config examples/vitest.config.ts examples/testing-app-server.test.ts
 */
import { Hono } from 'hono'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startProxy } from 'wsgiprox'
import type { TestProxy } from 'wsgiprox'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

const api = new Hono().get('/v1/user', (c) => c.json({ name: 'ada' }))
const cdn = new Hono().get('/widget.js', (c) =>
  c.body("document.body.insertAdjacentHTML('beforeend', '<p id=widget>widget</p>')", 200, {
    'content-type': 'text/javascript',
  })
)

let proxy: TestProxy
let server: ChildProcess
let serverUrl: string
beforeAll(async () => {
  // shop.example.com is the app server under test, reached through the proxy like the fakes.
  const shop = (request: Request) => {
    const { pathname, search } = new URL(request.url)
    return fetch(`${serverUrl}${pathname}${search}`, { headers: request.headers })
  }
  proxy = await startProxy({
    proxyApps: { 'api.example.com': api, 'cdn.example.com': cdn, 'shop.example.com': shop },
  })
  server = spawn(process.execPath, ['--import', 'tsx', 'examples/testing-app-server.ts'], {
    env: { ...process.env, ...proxy.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
  serverUrl = /listening on (\S+)/.exec(line.toString())?.[1] ?? ''
})
afterAll(async () => {
  server.kill()
  await proxy.close()
})

test('the page shows what the API fake told the server, and the CDN fake gave the browser', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: proxy.chromiumArgs,
  })
  try {
    const page = await browser.newPage()
    await page.goto('https://shop.example.com/')
    expect(await page.textContent('h1')).toBe('Hello, ada')
    expect(await page.textContent('#widget')).toBe('widget')
  } finally {
    await browser.close()
  }
  // Chromium's own background requests go through the proxy too: look for ours among them.
  expect(proxy.requests.map((r) => r.url)).toEqual(
    expect.arrayContaining([
      'https://api.example.com/v1/user',
      'https://cdn.example.com/widget.js',
      'https://shop.example.com/',
    ])
  )
})
