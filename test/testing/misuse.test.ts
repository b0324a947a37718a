/**
 * What a test author sees for a wrong argument: an OptionsError at the call that names the fix,
 * never a proxy that starts and then answers every request with a 500.
 */
import { Hono } from 'hono'
import { OptionsError } from '../../src/errors'
import { createProxy } from '../../src/proxy'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy, TestProxyOptions } from '../../src/testing/start-proxy'
import type { App } from '../../src/types'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

/** What a JavaScript caller may pass where an app belongs. */
const NOT_APPS: [string, unknown][] = [
  ['a string', 'hello'],
  ['an object without fetch', { get: () => 'x' }],
  ['the Hono class itself', Hono],
]

async function text(url: string): Promise<string> {
  const response = await fetch(url, { dispatcher: proxy?.dispatcher } as RequestInit)
  return `${response.status} ${await response.text()}`
}

describe('startProxy given something that is not an app', () => {
  it.each(NOT_APPS)('refuses %s as the app, naming what it takes', async (_, app) => {
    await expect(startProxy(app as App)).rejects.toThrow(
      /^the app given to startProxy must be a Hono app, \{ fetch \} or a function/
    )
    await expect(startProxy(app as App)).rejects.toBeInstanceOf(OptionsError)
  })

  it('names a class for what it is, and the instance it takes', async () => {
    await expect(startProxy(Hono as unknown as App)).rejects.toThrow(
      /, got the class Hono: pass an instance \(new Hono\(\)\)$/
    )
  })

  it('refuses a proxy app that is not an app, naming its host', async () => {
    const proxyApps = { 'api.example.com': 'hello' as unknown as App }
    await expect(startProxy(() => new Response('main'), { proxyApps })).rejects.toThrow(
      'proxyApps["api.example.com"] must be null (an alias), a Hono app, { fetch } or a function'
    )
  })

  it('refuses it in setApp and setProxyApp, and keeps answering with the app it had', async () => {
    proxy = await startProxy(() => new Response('main'), {
      proxyApps: { 'api.example.com': new Hono().get('/', (c) => c.text('api')) },
    })
    for (const [, app] of NOT_APPS) {
      expect(() => proxy?.setApp(app as App)).toThrow(/^the app given to setApp must be/)
      expect(() => proxy?.setProxyApp('api.example.com', app as App)).toThrow(
        /^the app given to setProxyApp for api\.example\.com must be/
      )
    }
    expect(await text('https://www.example.com/')).toBe('200 main')
    expect(await text('https://api.example.com/')).toBe('200 api')
  })

  it('finds the proxy app of a host written in another case', async () => {
    proxy = await startProxy(() => new Response('main'), { proxyApps: { 'API.example.com': null } })
    proxy.setProxyApp('Api.Example.com', () => new Response('api'))
    expect(await text('https://api.example.com/')).toBe('200 api')
  })
})

describe('createProxy given something that is not an app', () => {
  it.each(NOT_APPS)('refuses %s at once', (_, app) => {
    expect(() => createProxy(app as App)).toThrow(
      /^the app given to createProxy must be a Hono app, \{ fetch \} or a function \(request\) => Response, got /
    )
  })
})

describe('startProxy given an option it does not know', () => {
  it('names the option meant, and lists port and recordBodyLimit among those it takes', async () => {
    const options = { proxyapps: { 'api.example.com': null } } as TestProxyOptions
    await expect(startProxy(() => new Response('main'), options)).rejects.toThrow(
      /^unknown option "proxyapps"; did you mean proxyApps\? The options are port, recordBodyLimit, prefix, /
    )
  })

  it.each([
    ['https://api.example.com', `; did you mean 'api.example.com'?`],
    ['api.example.com:443', `; did you mean 'api.example.com'?`],
    ['*.example.com', '; a wildcard names no one host: answer its subdomains in the main app'],
  ])('refuses the proxyApps key %s, saying what to write', async (key, hint) => {
    const proxyApps = { [key]: () => new Response('fake') }
    await expect(startProxy(() => new Response('main'), { proxyApps })).rejects.toThrow(
      `proxyApps key ${JSON.stringify(key)} must be a host name such as 'wsgiprox', got ${JSON.stringify(key)}${hint}`
    )
  })

  it('calls an array an array', async () => {
    const options = { proxyApps: [] } as unknown as TestProxyOptions
    await expect(startProxy(() => new Response('main'), options)).rejects.toThrow(
      'proxyApps must be an object of host → app or null, got an array'
    )
  })
})

describe('startProxy given a port it cannot listen on', () => {
  it.each([['abc'], [-1], [70_000], [1.5], [null]])(
    'refuses %j, naming the range',
    async (port) => {
      await expect(
        startProxy(() => new Response('main'), { port: port as number })
      ).rejects.toThrow(/^port must be an integer from 0 to 65535 \(0 for a free one\), got /)
    }
  )

  it('says a port in use is in use, and how to get a free one', async () => {
    proxy = await startProxy(() => new Response('main'))
    const taken = startProxy(() => new Response('main'), { port: proxy.port })
    await expect(taken).rejects.toThrow(
      `port ${proxy.port} on 127.0.0.1 is in use (EADDRINUSE): leave port out, or 0, for a free one`
    )
    await expect(taken).rejects.toBeInstanceOf(OptionsError)
    expect(await text('http://www.example.com/')).toBe('200 main')
  })

  it('takes the digits of a port as PORT in the environment has them', async () => {
    proxy = await startProxy(() => new Response('main'), { port: '0' as unknown as number })
    expect(proxy.port).toBeGreaterThan(0)
    expect(await text('http://www.example.com/')).toBe('200 main')
  })
})

describe('startProxy given options createProxy would refuse', () => {
  it.each([
    [{ ca: null }, /^ca must be CA options or a CertificateAuthority, got null/],
    [{ ca: 'x' }, /^ca must be CA options or a CertificateAuthority, got "x"/],
    [{ onLog: 'x' }, /^onLog must be a function \(record\) => void, got "x"/],
    [{ onError: 1 }, /^onError must be a function \(error, context\) => void, got a number/],
    [null, /^options must be an object, got null/],
  ])('refuses %j as createProxy does', async (options, message) => {
    const started = startProxy(() => new Response('main'), options as TestProxyOptions)
    await expect(started).rejects.toThrow(message)
    await expect(started).rejects.toBeInstanceOf(OptionsError)
  })
})
