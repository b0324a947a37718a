/**
 * What a test asserts on after the request, as mockttp's seen requests give it: each record in
 * `proxy.requests` has the headers and body the app saw, over HTTP/1.1, HTTPS in a tunnel,
 * HTTP/2 and from a child process, while the app reads its own body as before.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { WebSocket } from 'undici'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { within } from '../helpers/within'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

// A fake that reads the body itself, as most do.
const payments = new Hono().post('/v1/charges', async (c) => {
  const { amount } = await c.req.json<{ amount: number }>()
  return c.json({ id: 'ch_1', amount }, 201)
})

describe('the headers and body of each request, in proxy.requests', () => {
  it('keeps them for a POST over HTTPS, and the fake still reads its body', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': payments } })
    const response = await fetch('https://api.example.com/v1/charges', {
      ...proxy.fetchInit,
      method: 'POST',
      headers: { authorization: 'Bearer t0k3n', 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 500 }),
    })
    expect(await response.json()).toEqual({ id: 'ch_1', amount: 500 })

    const [charge] = proxy.requests
    expect(charge?.headers?.get('authorization')).toBe('Bearer t0k3n')
    expect(charge?.headers?.get('content-type')).toBe('application/json')
    expect(await charge?.body?.json()).toEqual({ amount: 500 })
    expect(await charge?.body?.truncated()).toBe(false)
  })

  it('keeps the body of plain HTTP that the app never read', async () => {
    proxy = await startProxy(() => new Response('ignored', { status: 202 }))
    const response = await fetch('http://hooks.example.com/event', {
      ...proxy.fetchInit,
      method: 'PUT',
      body: 'kind=created',
    })
    expect(response.status).toBe(202)
    expect(await proxy.requests[0]?.body?.text()).toBe('kind=created')
    expect(proxy.requests[0]?.httpVersion).toBe('1.1')
  })

  it('keeps the start of a body past recordBodyLimit, and the app gets all of it', async () => {
    proxy = await startProxy(async (request) => new Response(`${(await request.text()).length}`), {
      recordBodyLimit: 8,
    })
    const response = await fetch('http://uploads.example.com/', {
      ...proxy.fetchInit,
      method: 'POST',
      body: '{"file":"0123456789"}',
    })
    expect(await response.text()).toBe('21')
    const [upload] = proxy.requests
    expect(await upload?.body?.text()).toBe('{"file":')
    expect(await upload?.body?.truncated()).toBe(true)
    await expect(upload?.body?.json()).rejects.toThrow(/recordBodyLimit \(8 bytes\)/)
  })

  it('keeps them for curl over HTTP/2 in a child process, without its proxy credentials', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': payments } })
    const { stdout } = await promisify(execFile)(
      'curl',
      [
        ...['-sS', '--http2', '-x', `http://ci:secret@127.0.0.1:${proxy.port}`],
        ...['-H', 'content-type: application/json', '-H', 'x-request-id: 42'],
        ...['--data', '{"amount":7}', 'https://api.example.com/v1/charges'],
      ],
      { env: { ...process.env, ...proxy.env } }
    )
    expect(JSON.parse(stdout)).toEqual({ id: 'ch_1', amount: 7 })
    const [charge] = proxy.requests
    expect(charge?.httpVersion).toBe('2.0')
    expect(charge?.headers?.get('x-request-id')).toBe('42')
    expect(charge?.headers?.get('host')).toBe('api.example.com')
    expect(charge?.headers?.has('proxy-authorization')).toBe(false)
    expect(await charge?.body?.json()).toEqual({ amount: 7 })
  })

  it('has none for what the proxy answered itself, and no body for a GET', async () => {
    proxy = await startProxy(() => new Response('ok'), { recordBodyLimit: 0 })
    await (await fetch('http://wsgiprox/download/pem', proxy.fetchInit)).text()
    await (await fetch('http://example.com/', proxy.fetchInit)).text()
    expect(
      proxy.requests.map(({ route, headers, body }) => [route, headers?.get('host'), body])
    ).toEqual([
      ['wsgiprox', undefined, undefined],
      ['app', 'example.com', undefined],
    ])
  })

  it('keeps the headers of a WebSocket upgrade', async () => {
    proxy = await startProxy(
      new Hono().get(
        '*',
        upgradeWebSocket(() => ({}))
      )
    )
    const socket = new WebSocket('wss://chat.example.com/live', {
      dispatcher: proxy.dispatcher,
      protocols: ['chat.v2'],
    })
    await within(once(socket, 'open'), 'the WebSocket did not open')
    await proxy.close()
    const [upgrade] = proxy.requests
    expect(upgrade?.websocket).toBe(true)
    expect(upgrade?.headers?.get('sec-websocket-protocol')).toBe('chat.v2')
  })
})
