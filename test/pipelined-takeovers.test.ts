/**
 * A CONNECT or an Upgrade pipelined behind requests whose responses are still being written: the
 * proxy's answer to it (200 Connection Established, 101, a refusal) and the tunnel it opens come
 * after those responses, on the wire and in the process's bookkeeping.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { rawExchange, rawSocket } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { within } from './helpers/within'

let running: RunningProxy
afterEach(async () => {
  await running.close()
})

const BIG = 8 * 1024 * 1024

/** `…/slow` answers after 150 ms, `…/big` streams 8 MiB, `…/ws` accepts a WebSocket; else the path. */
function app(): Hono {
  const hono = new Hono()
  const accept = upgradeWebSocket(() => ({}))
  hono.get('*', async (c, next) => (c.req.path.endsWith('/ws') ? accept(c, next) : next()))
  hono.all('*', async (c) => {
    const { pathname } = new URL(c.req.url)
    if (pathname.endsWith('/slow')) {
      await sleep(150)
      return c.text('slow done\n')
    }
    if (pathname.endsWith('/big')) {
      return bigResponse()
    }
    return c.text(`path ${pathname}\n`)
  })
  return hono
}

function bigResponse(): Response {
  let left = BIG
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left === 0) {
          controller.close()
          return
        }
        left -= chunk.length
        controller.enqueue(chunk)
      },
    }),
    { headers: { 'content-type': 'text/plain', 'content-length': String(BIG) } }
  )
}

/** Everything `socket` receives from now on, and a wait for a pattern in it. */
function reader(socket: Socket) {
  let text = ''
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
  })
  socket.on('error', () => {})
  return {
    text: () => text,
    async until(pattern: RegExp, what: string): Promise<string> {
      await within(
        (async () => {
          while (!pattern.test(text)) {
            await sleep(10)
          }
        })(),
        `no ${what}; got ${JSON.stringify(text.slice(0, 300))}`
      )
      return text
    },
  }
}

/** Where `part` is in `text`; fails when it is not there. */
function at(text: string, part: string): number {
  expect(text).toContain(part)
  return text.indexOf(part)
}

/** The status codes of the responses in `text`, in order. */
function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1] ?? '')
}

const credentials = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const basic = (user: string, password: string) =>
  `Proxy-Authorization: ${credentials(user, password)}\r\n`

/** Only alice (password `a`) is let through. */
const aliceOnly = {
  resolve: (url: string) => `/${url}`,
  requireAuth: (request: Request) =>
    request.headers.get('proxy-authorization') === credentials('alice', 'a') ? undefined : 'users',
}

/** Alice's slow request with `refused` (bob's) pipelined behind it: 200 first, then 407. */
async function expectRefusedAfterAlice(refused: string): Promise<void> {
  running = await startProxy(app(), { resolver: aliceOnly })
  const socket = await rawSocket(running.port)
  const received = reader(socket)
  socket.write(
    `GET http://a.example/slow HTTP/1.1\r\nHost: a.example\r\n${basic('alice', 'a')}\r\n` + refused
  )
  const text = await received.until(/Proxy authentication required\n/, '407')
  expect(statusLines(text)).toEqual(['200', '407'])
  expect(at(text, 'slow done')).toBeLessThan(at(text, ' 407 '))
}

describe('a CONNECT pipelined behind a response still being written', () => {
  it('is answered after it, and the requests inside the tunnel are all served', async () => {
    running = await startProxy(app(), { prefix: '/' })
    const socket = await rawSocket(running.port)
    const received = reader(socket)
    socket.write(
      'GET http://a.example/slow HTTP/1.1\r\nHost: a.example\r\n\r\n' +
        'CONNECT b.example:80 HTTP/1.1\r\nHost: b.example:80\r\n\r\n' +
        'GET /in HTTP/1.1\r\nHost: b.example\r\n\r\n'
    )
    await received.until(/path \/http:\/\/b\.example\/in\n/, 'answer to GET /in')
    socket.write('GET /in2 HTTP/1.1\r\nHost: b.example\r\n\r\n')
    const text = await received.until(/path \/http:\/\/b\.example\/in2\n/, 'answer to GET /in2')
    expect(statusLines(text)).toEqual(['200', '200', '200', '200'])
    expect(at(text, 'slow done')).toBeLessThan(at(text, '200 Connection Established'))
    expect(at(text, '200 Connection Established')).toBeLessThan(at(text, 'b.example/in\n'))
    socket.destroy()
    // The process is still up and serving.
    const next = await rawExchange(
      running.port,
      'GET http://c.example/ HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n'
    )
    expect(next).toContain('path /http://c.example/')
    expect(running.errors).toEqual([])
  })

  it('waits for a long body, which arrives whole, before the tunnel opens', async () => {
    running = await startProxy(app(), { prefix: '/' })
    const socket = await rawSocket(running.port)
    // The client reads nothing until the CONNECT is sent: the body backs up in the socket.
    socket.write(
      'GET http://a.example/big HTTP/1.1\r\nHost: a.example\r\n\r\n' +
        'CONNECT b.example:80 HTTP/1.1\r\nHost: b.example:80\r\n\r\n' +
        'GET /in HTTP/1.1\r\nHost: b.example\r\n\r\n'
    )
    socket.pause()
    await sleep(200)
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.resume()
    await within(
      (async () => {
        while (!Buffer.concat(chunks).includes('path /http://b.example/in\n')) {
          await sleep(10)
        }
      })(),
      'no answer inside the tunnel after the 8 MiB body'
    )
    const bytes = Buffer.concat(chunks)
    const headEnd = bytes.indexOf('\r\n\r\n') + 4
    const established = bytes.indexOf('HTTP/1.1 200 Connection Established')
    expect(established - headEnd).toBe(BIG)
    expect(bytes.subarray(headEnd, established).every((byte) => byte === 0x61)).toBe(true)
    socket.destroy()
  })

  it('inside a tunnel, gets its 405 after the responses before it', async () => {
    running = await startProxy(app(), { prefix: '/' })
    const socket = await rawSocket(running.port)
    const received = reader(socket)
    socket.write('CONNECT a.example:80 HTTP/1.1\r\nHost: a.example:80\r\n\r\n')
    await received.until(/200 Connection Established\r\n\r\n/, 'tunnel')
    socket.write(
      'GET /slow HTTP/1.1\r\nHost: a.example\r\n\r\n' +
        'CONNECT b.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n'
    )
    const text = await received.until(/not supported\n/, '405')
    expect(statusLines(text)).toEqual(['200', '200', '405'])
    expect(at(text, 'slow done')).toBeLessThan(at(text, ' 405 '))
  })

  it('refused, does not overtake the admitted request before it', async () => {
    await expectRefusedAfterAlice(
      `CONNECT b.example:443 HTTP/1.1\r\nHost: b.example:443\r\n${basic('bob', 'x')}\r\n`
    )
  })
})

describe('a WebSocket upgrade pipelined behind a response still being written', () => {
  const upgrade = (path: string, extra = '') =>
    `GET http://a.example${path} HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\n` +
    'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`

  it('gets its 101 after that response', async () => {
    running = await startProxy(app(), { prefix: '/' })
    const socket = await rawSocket(running.port)
    const received = reader(socket)
    socket.write('GET http://a.example/slow HTTP/1.1\r\nHost: a.example\r\n\r\n' + upgrade('/ws'))
    const text = await received.until(/101 Switching Protocols[^]*\r\n\r\n/, '101')
    expect(statusLines(text)).toEqual(['200', '101'])
    expect(at(text, 'slow done')).toBeLessThan(at(text, ' 101 '))
    socket.destroy()
  })

  it('refused, gets its 407 after that response', async () => {
    await expectRefusedAfterAlice(upgrade('/ws', basic('bob', 'x')))
  })
})
