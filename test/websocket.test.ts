import { serve } from '@hono/node-server'
import { ProxyAgent, WebSocket as FetchWebSocket } from 'undici'
import WebSocket, { WebSocketServer } from 'ws'
import { execFile } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import type { LogRecord } from '../src/log/records'
import { createProxy } from '../src/proxy'
import type { Proxy, ProxyOptions } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel, rawSocket, requestOver } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy, testCa } from './helpers/proxy'
import { missing, toolPath } from './helpers/tools'
import type { Closed, TunnelledOptions } from './helpers/websockets'
import {
  absoluteFormSocket,
  closeSocket,
  echoSocketApp,
  nextMessage,
  openedHello,
  refusedStatus,
  tunnelledSocket,
} from './helpers/websockets'
import { within } from './helpers/within'

let running: RunningProxy | undefined
const sockets: WebSocket[] = []
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket))
  await running?.close()
  running = undefined
})

/** What the app saw closing, across the main app and the proxy app. */
const appCloses = new EventEmitter()

async function start(options: ProxyOptions = {}) {
  running = await startProxy(echoSocketApp('main', appCloses), {
    prefix: '/prefix/',
    proxyApps: {
      'proxy-app-1': echoSocketApp('proxy-app-1', appCloses, '/websocket'),
      'proxy-alias': null,
    },
    ...options,
  })
  return running
}

/** Close `ws` after the test. */
function track(ws: WebSocket): WebSocket {
  sockets.push(ws)
  return ws
}

/** A client through a CONNECT tunnel (TLS inside for wss:), tracked for afterEach. */
function through(url: string, options: TunnelledOptions = {}) {
  if (!running) {
    throw new Error('start() the proxy first')
  }
  return track(tunnelledSocket(running.port, url, running.caPem, options))
}

/** A client talking to the server directly, not through the proxy. */
function direct(path: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  if (!running) {
    throw new Error('start() the proxy first')
  }
  return track(new WebSocket(`ws://127.0.0.1:${running.port}${path}`, options))
}

describe('WebSockets through the proxy', () => {
  it.each([
    [
      'wss://example.com/websocket?a=b',
      'main',
      '/prefix/https://example.com/websocket?a=b',
      'wsgiprox',
    ],
    [
      'wss://example.com:8443/websocket',
      'main',
      '/prefix/https://example.com:8443/websocket',
      'wsgiprox',
    ],
    ['ws://example.com/ws', 'main', '/prefix/http://example.com/ws', 'wsgiprox'],
    ['ws://example.com:8080/ws?x=1', 'main', '/prefix/http://example.com:8080/ws?x=1', 'wsgiprox'],
    ['wss://wsgiprox/websocket?a=b', 'main', '/websocket?a=b', 'wsgiprox'],
    ['ws://wsgiprox:8080/websocket', 'main', '/websocket', 'wsgiprox'],
    ['wss://proxy-app-1/websocket?a=b', 'proxy-app-1', '/websocket?a=b', 'proxy-app-1'],
    ['ws://proxy-app-1/websocket', 'proxy-app-1', '/websocket', 'proxy-app-1'],
    ['wss://proxy-app-1/other', 'main', '/other', 'proxy-app-1'],
    ['wss://proxy-alias/websocket', 'main', '/websocket', 'proxy-alias'],
  ])('takes %s to the %s app as %s', async (url, app, path, proxyHost) => {
    await start()
    const hello = await openedHello(through(url))
    expect(hello).toMatchObject({ app, path, proxyHost })
  })

  it('takes a ws:// upgrade sent in absolute form to the app', async () => {
    const proxy = await start()
    const ws = track(absoluteFormSocket(proxy.port, 'ws://example.com:8080/ws?a=b'))
    expect(await openedHello(ws)).toMatchObject({
      app: 'main',
      path: '/prefix/http://example.com:8080/ws?a=b',
      proxyHost: 'wsgiprox',
    })
  })

  it('serves direct upgrades untranslated, without the proxy-host header', async () => {
    await start()
    const hello = await openedHello(direct('/websocket?a=b'))
    expect(hello).toMatchObject({ app: 'main', path: '/websocket?a=b', proxyHost: null })
  })

  it('strips forged proxy-host headers and proxy credentials on every upgrade path', async () => {
    const proxy = await start()
    const headers = {
      'X-Wsgiprox-Proxy-Host': 'forged',
      'Proxy-Authorization': 'Basic Zm9yZ2VkOg==',
      'Proxy-Connection': 'keep-alive',
    }
    const hellos = await Promise.all([
      openedHello(through('wss://example.com/a', { headers })),
      openedHello(through('ws://example.com/b', { headers })),
      openedHello(through('wss://proxy-app-1/websocket', { headers })),
      openedHello(direct('/c', { headers })),
      openedHello(track(absoluteFormSocket(proxy.port, 'ws://example.com/d', { headers }))),
    ])
    expect(hellos.map((hello) => hello.proxyHost)).toEqual([
      'wsgiprox',
      'wsgiprox',
      'proxy-app-1',
      null,
      'wsgiprox',
    ])
    for (const hello of hellos) {
      expect(Object.keys(hello.headers)).not.toContain('proxy-authorization')
      expect(Object.keys(hello.headers)).not.toContain('proxy-connection')
    }
  })
})

/** The next text message of an undici WebSocket; fails at once if it errs or closes first. */
function messageOf(ws: FetchWebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const failed = (what: string) => () => {
      reject(new Error(`the WebSocket ${what} before the app's message came`))
    }
    ws.addEventListener(
      'message',
      (event) => {
        resolve(String(event.data))
      },
      { once: true }
    )
    ws.addEventListener('error', failed('failed'), { once: true })
    ws.addEventListener('close', failed('closed'), { once: true })
  })
}

describe("undici's WebSocket (Node's built-in one) through ProxyAgent", () => {
  let agent: ProxyAgent | undefined
  afterEach(async () => {
    await agent?.close()
    agent = undefined
  })

  it.each([
    ['wss://example.com/u?a=b', '/prefix/https://example.com/u?a=b'],
    ['ws://example.com:8080/u', '/prefix/http://example.com:8080/u'],
  ])('opens %s, echoes, and closes with a code and reason', async (url, path) => {
    const proxy = await start()
    agent = new ProxyAgent({ uri: proxy.url, requestTls: { ca: proxy.caPem } })
    const ws = new FetchWebSocket(url, { dispatcher: agent, protocols: ['chat'] })
    const hello = await messageOf(ws)
    expect(JSON.parse(hello)).toMatchObject({ path, proxyHost: 'wsgiprox', protocol: 'chat' })
    ws.send('ping')
    expect(await messageOf(ws)).toBe('ping')
    const appClosed = once(appCloses, 'close') as Promise<[Closed]>
    const closed = once(ws, 'close') as Promise<[CloseEvent]>
    ws.close(4000, 'bye')
    expect((await closed)[0]).toMatchObject({ code: 4000, reason: 'bye' })
    expect((await appClosed)[0]).toEqual({ code: 4000, reason: 'bye' })
  })
})

describe.skipIf(missing('python3-websocket'))("Python's websocket-client", () => {
  it('talks wss:// and ws:// through the proxy, verifying the CA', async () => {
    const proxy = await start()
    const caFile = join(mkdtempSync(join(tmpdir(), 'wsgiprox-ws-')), 'ca.pem')
    writeFileSync(caFile, proxy.caPem)
    const { stdout } = await promisify(execFile)(
      toolPath('python3-websocket'),
      [
        '-c',
        `
import json, os, websocket
out = []
for url in ['wss://example.com/py?a=b', 'ws://example.com:8080/py']:
    ws = websocket.create_connection(url, http_proxy_host='127.0.0.1',
        http_proxy_port=int(os.environ['PORT']), proxy_type='http',
        sslopt={'ca_certs': os.environ['CA']})
    hello = json.loads(ws.recv())
    ws.send('hi')
    out.append([hello['path'], ws.recv()])
    ws.close()
print(json.dumps(out))
`,
      ],
      { env: { ...process.env, PORT: String(proxy.port), CA: caFile } }
    )
    expect(JSON.parse(stdout)).toEqual([
      ['/prefix/https://example.com/py?a=b', 'hi'],
      ['/prefix/http://example.com:8080/py', 'hi'],
    ])
  })
})

describe.each([
  'wss://example.com/echo',
  'ws://example.com:8080/echo',
  'wss://proxy-app-1/websocket',
])('WebSocket messages through %s', (url) => {
  it('echoes text and binary', async () => {
    await start()
    const ws = through(url)
    await openedHello(ws)
    ws.send('hello')
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from('hello'), isBinary: false })
    ws.send(Buffer.from([0, 1, 2, 255]))
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from([0, 1, 2, 255]), isBinary: true })
  })

  it('round-trips a 1 MiB binary message', async () => {
    await start()
    const ws = through(url)
    await openedHello(ws)
    const big = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < big.length; i++) {
      big[i] = (i * 31) & 0xff
    }
    ws.send(big)
    const echoed = await nextMessage(ws)
    expect(echoed.isBinary).toBe(true)
    expect(echoed.data.equals(big)).toBe(true)
  })

  it('delivers 1,000 small messages in order', async () => {
    await start()
    const ws = through(url)
    await openedHello(ws)
    const received: string[] = []
    const all = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        received.push(data.toString())
        if (received.length === 1000) {
          resolve()
        }
      })
    })
    const sent = Array.from({ length: 1000 }, (_, i) => `message ${i}`)
    for (const message of sent) {
      ws.send(message)
    }
    await all
    expect(received).toEqual(sent)
  })

  it("passes the client's close code and reason to the app", async () => {
    await start()
    const ws = through(url)
    await openedHello(ws)
    const appClosed = once(appCloses, 'close') as Promise<[Closed]>
    ws.close(4000, 'the client says bye')
    expect((await appClosed)[0]).toEqual({ code: 4000, reason: 'the client says bye' })
  })

  it("passes the app's close code and reason to the client", async () => {
    await start()
    const ws = through(url)
    await openedHello(ws)
    const closed = once(ws, 'close') as Promise<[number, Buffer]>
    ws.send('close')
    const [code, reason] = await closed
    expect({ code, reason: reason.toString() }).toEqual({
      code: 4001,
      reason: 'the app says bye',
    })
  })
})

describe('refused upgrades', () => {
  it.each([
    'wss://example.com/upgrade',
    'ws://example.com:8080/upgrade',
    'wss://wsgiprox/upgrade',
    'wss://proxy-app-1/upgrade',
  ])('answers %s from an app without upgradeWebSocket with its ordinary response', async (url) => {
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': echoApp('sub') } })
    expect(await refusedStatus(through(url))).toBe(200)
  })

  it('answers with the status of a handler that returns a non-upgrade Response', async () => {
    await start()
    expect(await refusedStatus(through('wss://example.com/forbidden'))).toBe(403)
    expect(await refusedStatus(through('ws://example.com/forbidden'))).toBe(403)
    expect(await refusedStatus(through('wss://wsgiprox/declined'))).toBe(200)
    expect(await refusedStatus(direct('/forbidden'))).toBe(403)
  })

  it('answers upgrades through the proxy with 501 when enableWebsockets is false', async () => {
    const proxy = await start({ enableWebsockets: false })
    expect(await refusedStatus(through('wss://example.com/websocket'))).toBe(501)
    expect(await refusedStatus(through('ws://example.com:8080/websocket'))).toBe(501)
    const absolute = track(absoluteFormSocket(proxy.port, 'ws://example.com/websocket'))
    expect(await refusedStatus(absolute)).toBe(501)
    // Direct upgrades are the app's own business.
    expect(await openedHello(direct('/websocket'))).toMatchObject({ path: '/websocket' })
  })

  it('logs the 501 of disabled WebSockets as the proxy’s own answer, never seen by the app', async () => {
    const records: LogRecord[] = []
    const closed = new EventEmitter()
    await start({
      enableWebsockets: false,
      onLog: (record) => {
        records.push(record)
        closed.emit('record')
      },
    })
    expect(await refusedStatus(through('wss://example.com/websocket'))).toBe(501)
    const requests = () => records.filter((record) => record.type === 'request')
    while (requests().length === 0) {
      await once(closed, 'record')
    }
    expect(requests()).toEqual([
      expect.objectContaining({
        url: 'https://example.com/websocket',
        status: 501,
        route: 'proxy',
        path: undefined,
        websocket: true,
      }),
    ])
  })
})

describe('WebSocket negotiation', () => {
  it('negotiates a subprotocol the client offers', async () => {
    await start()
    const ws = through('wss://example.com/chat', { protocols: ['chat.v2', 'chat.v1'] })
    const hello = await openedHello(ws)
    expect(ws.protocol).toBe('chat.v2')
    expect(hello.protocol).toBe('chat.v2')
    expect(hello.headers['sec-websocket-protocol']).toBe('chat.v2,chat.v1')
  })

  it('leaves permessage-deflate off, as a WebSocketServer does by default', async () => {
    await start()
    const proxied = through('wss://example.com/deflate')
    const plain = direct('/deflate')
    await Promise.all([openedHello(proxied), openedHello(plain)])
    expect(proxied.extensions).toBe('')
    expect(plain.extensions).toBe('')
  })

  it('negotiates permessage-deflate with the WebSocketServer given in websocket.server', async () => {
    const server = new WebSocketServer({ noServer: true, perMessageDeflate: true })
    await start({ websocket: { server } })
    const proxied = through('wss://example.com/deflate')
    const plain = direct('/deflate')
    await Promise.all([openedHello(proxied), openedHello(plain)])
    expect(proxied.extensions).toMatch(/^permessage-deflate/)
    expect(plain.extensions).toBe(proxied.extensions)
    proxied.send('x'.repeat(10_000))
    expect((await nextMessage(proxied)).data.toString()).toBe('x'.repeat(10_000))
    server.close()
  })
})

describe('attach() to a server made by serve()', () => {
  let attached: Proxy | undefined
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map(closeSocket))
    // Closing the proxy closes the server it is attached to.
    await attached?.close()
    attached = undefined
  })

  it('serves direct and proxied upgrades with the WebSocketServer given to both', async () => {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true })
    const app = echoSocketApp('main', appCloses)
    const served = serve({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      websocket: { server: wss },
    }) as Server
    await once(served, 'listening')
    const proxy = createProxy(app, {
      prefix: '/p/',
      ca: await testCa(),
      websocket: { server: wss },
    })
    attached = proxy
    proxy.attach(served)
    const { port } = served.address() as AddressInfo
    const ca = await proxy.getCertificateAuthority()
    const plain = track(new WebSocket(`ws://127.0.0.1:${port}/direct`))
    const proxied = track(tunnelledSocket(port, 'wss://example.com/x', ca.certPem))
    const hellos = await Promise.all([openedHello(plain), openedHello(proxied)])
    expect(hellos.map((hello) => hello.path)).toEqual(['/direct', '/p/https://example.com/x'])
    expect(plain.extensions).toMatch(/^permessage-deflate/)
    expect(proxied.extensions).toBe(plain.extensions)
  })
})

describe('closing the proxy', () => {
  it('closes open WebSockets, direct and tunnelled', async () => {
    const proxy = await start()
    const tunnelled = through('wss://example.com/open')
    const plain = direct('/open')
    await Promise.all([openedHello(tunnelled), openedHello(plain)])
    const closed = Promise.all([once(tunnelled, 'close'), once(plain, 'close')])
    running = undefined
    await within(proxy.close(), 'close() did not finish with WebSockets open')
    await within(closed, 'close() left a WebSocket open')
  })
})

describe('WebSockets with ProxyAuthResolver', () => {
  const credentials = `Basic ${Buffer.from('my-coll:').toString('base64')}`

  it('asks for credentials before a ws:// upgrade in absolute form', async () => {
    const proxy = await start({ resolver: new ProxyAuthResolver() })
    const ws = track(absoluteFormSocket(proxy.port, 'ws://example.com/ws'))
    expect(await refusedStatus(ws)).toBe(407)
  })

  it('resolves with the credentials of the CONNECT, or of the upgrade, and hides them', async () => {
    const proxy = await start({ resolver: new ProxyAuthResolver() })
    const auth = { 'Proxy-Authorization': credentials }
    const tunnelled = await openedHello(through('wss://example.com/ws', { connectHeaders: auth }))
    expect(tunnelled.path).toBe('/my-coll/https://example.com/ws')
    const absolute = await openedHello(
      track(absoluteFormSocket(proxy.port, 'ws://example.com/ws', { headers: auth }))
    )
    expect(absolute.path).toBe('/my-coll/http://example.com/ws')
    expect(Object.keys(absolute.headers)).not.toContain('proxy-authorization')
  })
})

describe('upgrades other than WebSocket', () => {
  const h2c = {
    connection: 'Upgrade, HTTP2-Settings',
    upgrade: 'h2c',
    'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA',
  }
  const parse = (body: string) => JSON.parse(body) as Echo

  it.each([
    ['in absolute form', 'http://example.com/a', '/prefix/http://example.com/a', 'wsgiprox'],
    ['in a tunnel', '/a', '/prefix/http://example.com:8080/a', 'wsgiprox'],
    ['direct', '/a', '/a', null],
  ])(
    'serves them %s as ordinary requests, with their body and keep-alive',
    async (how, target, path, proxyHost) => {
      running = await startProxy(echoApp(), { prefix: '/prefix/' })
      const tunnelled = how === 'in a tunnel'
      const socket = tunnelled
        ? (await connectTunnel(running.port, 'example.com:8080')).socket
        : await rawSocket(running.port)
      const host = tunnelled ? 'example.com:8080' : 'example.com'
      const first = await requestOver(socket, target, {
        method: 'POST',
        headers: h2c,
        body: 'hello',
        host,
      })
      expect(parse(first.body)).toMatchObject({ method: 'POST', path, proxyHost, body: 'hello' })
      expect(parse(first.body).headers).not.toHaveProperty('upgrade')
      const second = await requestOver(socket, target, { host })
      expect(parse(second.body)).toMatchObject({ method: 'GET', path })
      socket.destroy()
    }
  )
})

describe('the websocket option', () => {
  it('refuses a server that is not a ws WebSocketServer with noServer', () => {
    const listening = { server: { options: {}, handleUpgrade: () => {} } }
    expect(() =>
      createProxy(echoApp(), { websocket: listening as unknown as ProxyOptions['websocket'] })
    ).toThrow(/websocket\.server must be a ws WebSocketServer made with \{ noServer: true \}/)
  })
})
