import { Hono } from 'hono'
import WebSocket from 'ws'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { connectTunnel, rawExchange, tlsOverTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { absoluteFormSocket, tunnelledSocket } from './helpers/websockets'
import { closeOf, within } from './helpers/within'

// An app that refuses a WebSocket upgrade answers it as it would a GET; the client gets that
// answer (its status, headers and body), with the hop-by-hop headers dropped as for any response.

const REASON = { error: 'no WebSockets for you' }
const REASON_TEXT = JSON.stringify(REASON)

function refusingApp(): Hono {
  const app = new Hono()
  app.get('*', (c) => c.json(REASON, 403, { 'X-Reason': 'policy', 'Keep-Alive': 'timeout=5' }))
  return app
}

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(): Promise<RunningProxy> {
  running = await startProxy(refusingApp())
  return running
}

/** The answer `ws` got instead of a 101, read whole; the client is closed after. */
async function refusal(ws: WebSocket) {
  // Aborting a handshake reports an error besides closing: expected here.
  ws.on('error', () => {})
  const [, response] = (await within(
    once(ws, 'unexpected-response'),
    'the client got no answer to its upgrade'
  )) as [unknown, IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of response) {
    chunks.push(chunk as Buffer)
  }
  ws.terminate()
  return {
    status: response.statusCode,
    headers: response.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  }
}

/** What every client must see of the app's refusal. */
function expectTheAppsRefusal(answer: Awaited<ReturnType<typeof refusal>>) {
  expect(answer.status).toBe(403)
  expect(answer.headers['content-type']).toBe('application/json')
  expect(answer.headers['x-reason']).toBe('policy')
  expect(answer.headers['keep-alive']).toBeUndefined()
  expect(answer.headers['content-length']).toBe(String(REASON_TEXT.length))
  expect(JSON.parse(answer.body)).toEqual(REASON)
}

const UPGRADE =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

describe('a WebSocket upgrade the app refuses', () => {
  it('shows a ws:// client through the proxy the app’s status, headers and body', async () => {
    const proxy = await start()
    expectTheAppsRefusal(await refusal(absoluteFormSocket(proxy.port, 'ws://example.com/chat')))
  })

  it('shows a wss:// client inside a CONNECT tunnel the same answer', async () => {
    const proxy = await start()
    const ws = tunnelledSocket(proxy.port, 'wss://example.com/chat', proxy.caPem)
    expectTheAppsRefusal(await refusal(ws))
  })

  it('shows a client upgrading directly on the proxy’s address the same answer', async () => {
    const proxy = await start()
    expectTheAppsRefusal(await refusal(new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`)))
  })

  it('writes the answer with its framing on the wire, then closes the connection', async () => {
    const proxy = await start()
    const received = await rawExchange(
      proxy.port,
      `GET http://example.com/chat HTTP/1.1\r\nHost: example.com\r\n${UPGRADE}`
    )
    const [head = '', body] = received.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    expect(head).toMatch(/\r\ncontent-type: application\/json\r\n/i)
    expect(head).toMatch(
      new RegExp(`\r\ncontent-length: ${String(REASON_TEXT.length)}(\r\n|$)`, 'i')
    )
    expect(head).toMatch(/\r\nconnection: close(\r\n|$)/i)
    expect(head).not.toMatch(/keep-alive/i)
    expect(body).toBe(REASON_TEXT)
  })

  it('writes the same inside a TLS tunnel, and closes it after', async () => {
    const proxy = await start()
    const { socket } = await connectTunnel(proxy.port, 'example.com:443')
    const secure = await tlsOverTunnel(socket, 'example.com', proxy.caPem)
    const received = closeOf(secure, 'the proxy did not close the refused upgrade')
    secure.write(`GET /chat HTTP/1.1\r\nHost: example.com\r\n${UPGRADE}`)
    const [head = '', body] = (await received).toString('latin1').split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    expect(head).toMatch(/\r\ncontent-type: application\/json\r\n/i)
    expect(body).toBe(REASON_TEXT)
  })
})

describe('a WebSocket refusal whose body has failed before its head went out', () => {
  it('gets 502 with the reason, and onError hears of it', async () => {
    const errors: string[] = []
    const app = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.error(new Error('the disk went away'))
          },
        }),
        { status: 403 }
      )
    running = await startProxy(app, {
      onError: (error: Error) => {
        errors.push(error.message)
      },
    })
    const received = await rawExchange(
      running.port,
      `GET http://example.com/chat HTTP/1.1\r\nHost: example.com\r\n${UPGRADE}`
    )
    const [head = '', body] = received.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/)
    expect(body).toContain('the disk went away')
    expect(errors.some((message) => message.includes('the disk went away'))).toBe(true)
  })
})
