/**
 * startProxy without a main app: the options alone, as most tests fake sites by host and want
 * to hear about a request nothing fakes.
 */
import { Hono } from 'hono'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { getThrough } from '../helpers/kit'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const get = (url: string) => getThrough(proxy, url, { contentType: true })

const api = () => new Hono().get('/v1/user', (c) => c.json({ name: 'ada' }))

describe('startProxy(options)', () => {
  it('serves the proxy apps it is given with the options alone', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': api() } })
    expect(await get('https://api.example.com/v1/user')).toBe(
      '200 application/json\n{"name":"ada"}'
    )
  })

  it('answers a host nothing fakes with a 404 that names the request and the fix', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': api() } })
    expect(await get('https://www.example.org/x?y=1')).toBe(
      '404 text/plain; charset=utf-8\n' +
        'not faked: GET https://www.example.org/x?y=1\n' +
        '(startProxy was given no app that answers it: pass a proxy app for www.example.org in proxyApps, or a main app)\n'
    )
    expect(proxy.requests.map((r) => `${r.url} ${r.status}`)).toEqual([
      'https://www.example.org/x?y=1 404',
    ])
  })

  it('names the full URL of a request a proxy app lets fall through', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': api() } })
    expect(await get('http://api.example.com/v1/other')).toMatch(
      /^404 text\/plain; charset=utf-8\nnot faked: GET http:\/\/api\.example\.com\/v1\/other\n/
    )
  })

  it('starts with no argument at all, and takes apps later', async () => {
    proxy = await startProxy()
    expect(await get('https://www.example.org/')).toMatch(
      /^404 .*\nnot faked: GET https:\/\/www\.example\.org\/\n/
    )
    proxy.setApp(() => new Response('main'))
    expect(await get('https://www.example.org/')).toBe('200 text/plain; charset=UTF-8\nmain')
  })

  it('still refuses an object that is neither an app nor options', async () => {
    await expect(startProxy({ get: () => 'x' } as never)).rejects.toThrow(
      /^the app given to startProxy must be a Hono app, \{ fetch \} or a function/
    )
  })
})

describe('a request sent to the test proxy, not through it', () => {
  // Python requests 2.28 with urllib3 1.26 (Debian 12's) sends a chunked upload to an https URL
  // so: TLS to the proxy's own address, no CONNECT. Node's https does the same asked directly.
  it('is answered with what happened, not with a fix that cannot help', async () => {
    proxy = await startProxy({ proxyApps: { 'api.example.com': api() } })
    const request = httpsRequest({
      host: '127.0.0.1',
      port: proxy.port,
      method: 'POST',
      path: '/v1/user',
      ca: proxy.ca.pem,
    })
    request.end('ada')
    const [response] = (await once(request, 'response')) as [IncomingMessage]
    let text = ''
    for await (const chunk of response) {
      text += String(chunk)
    }
    expect(`${response.statusCode}\n${text}`).toMatch(
      /^404\nnot faked: POST https:\/\/127\.0\.0\.1:\d+\/v1\/user\n\(it was sent to the proxy itself, not through it: the client named no site/
    )
    expect(text).toContain('send bytes instead of a generator')
  })
})
