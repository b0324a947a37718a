/**
 * An app that returns a thenable that is not a Promise (a plain object with `then`, as some
 * libraries' lazy results are). `await` takes one, and an async app's is awaited by the language
 * already, so the proxy awaits it too, the same on every way in: from the main app and a proxy
 * app, over HTTP/1.0, 1.1, a TLS tunnel, HTTP/2, SOCKS5, a WebSocket upgrade and `proxy.fetch`.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ErrorContext } from '../../src/types'
import { h2OverTunnel, h2Get, httpsTunnel, rawExchange, requestOver } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { serveFetchEntry, startProxy } from '../helpers/proxy'
import { socksConnect } from '../helpers/socks'

/** `value` behind a `then` of a plain object, called back at once or in a later turn. */
function thenable(value: () => unknown, later = false) {
  return {
    then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
      const give = () => {
        try {
          resolve(value())
        } catch (error) {
          reject(error)
        }
      }
      if (later) {
        setTimeout(give, 5)
      } else {
        give()
      }
    },
  }
}

function app(request: Request): Response {
  const path = new URL(request.url).pathname.replace(/^\/https?:\/\/[^/]+/, '')
  const answers: Record<string, () => unknown> = {
    '/thenable': () => thenable(() => new Response('from a thenable', { status: 201 })),
    '/thenable-later': () => thenable(() => new Response('from a thenable', { status: 201 }), true),
    '/thenable-of-42': () => thenable(() => 42),
    '/thenable-throws': () =>
      thenable(() => {
        throw new Error('the lazy answer failed')
      }),
    '/then-getter-throws': () => ({
      get then() {
        throw new Error('no then here')
      },
    }),
    '/ws': () => thenable(() => new Response('refused', { status: 403 })),
  }
  return (answers[path]?.() ?? new Response('ok')) as Response
}

let running: RunningProxy
let entry: Server | undefined
const reports: { error: Error; context: ErrorContext }[] = []
beforeEach(async () => {
  reports.length = 0
  running = await startProxy(app, {
    socks: true,
    proxyApps: { 'apps.example': app },
    onError: (error, context) => reports.push({ error, context }),
  })
})
afterEach(async () => {
  entry?.close()
  entry = undefined
  await running.close()
})

/** The status line and body of a raw HTTP/1.x exchange, read until the proxy closes. */
function statusAndBody(reply: string): [string, string] {
  const [head = '', body = ''] = reply.split('\r\n\r\n')
  return [head.split('\r\n')[0] ?? '', body]
}

describe('an app that returns a thenable', () => {
  it.each([
    ['the main app', 'example.com'],
    ['a proxy app', 'apps.example'],
  ])('is awaited when %s returns it, over HTTP/1.1 and HTTP/1.0', async (_, host) => {
    for (const version of ['1.1', '1.0']) {
      for (const path of ['/thenable', '/thenable-later']) {
        const reply = await rawExchange(
          running.port,
          `GET http://${host}${path} HTTP/${version}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
        )
        expect(statusAndBody(reply)).toEqual([`HTTP/1.1 201 Created`, 'from a thenable'])
      }
    }
  })

  it('is awaited in a TLS tunnel, over HTTP/2, and in a SOCKS5 tunnel', async () => {
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    expect(await requestOver(tls, '/thenable')).toMatchObject({
      status: 201,
      body: 'from a thenable',
    })
    tls.destroy()
    const { session } = await h2OverTunnel(running.port, running.caPem)
    expect(await h2Get(session, '/thenable-later')).toMatchObject({
      status: 201,
      body: 'from a thenable',
    })
    session.close()
    const { socket } = await socksConnect(running.port, 'example.com', 80)
    expect(await requestOver(socket, '/thenable')).toMatchObject({
      status: 201,
      body: 'from a thenable',
    })
    socket.destroy()
  })

  it('answers a WebSocket upgrade with the Response a thenable gives', async () => {
    const reply = await rawExchange(
      running.port,
      'GET http://example.com/ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 403 /)
    expect(reply).toContain('refused')
  })

  it('is awaited by proxy.fetch', async () => {
    entry = await serveFetchEntry(running.proxy)
    const { port } = entry.address() as AddressInfo
    const response = await fetch(`http://127.0.0.1:${String(port)}/thenable`)
    expect([response.status, await response.text()]).toEqual([201, 'from a thenable'])
  })

  it('checks what the thenable gives as any answer, and a failing one is the app failing', async () => {
    const get = (path: string) =>
      rawExchange(
        running.port,
        `GET http://example.com${path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`
      )
    expect(await get('/thenable-of-42')).toMatch(
      /^HTTP\/1\.1 502 [^]*the app returned a number, not a Response/
    )
    expect(await get('/thenable-throws')).toMatch(/^HTTP\/1\.1 500 /)
    expect(await get('/then-getter-throws')).toMatch(/^HTTP\/1\.1 502 [^]*no then here/)
    expect(reports.map(({ error, context }) => [context.phase, error.message])).toEqual([
      ['app', expect.stringContaining('the app returned a number, not a Response')],
      ['app', 'the lazy answer failed'],
      ['app', expect.stringContaining('no then here')],
    ])
  })
})
