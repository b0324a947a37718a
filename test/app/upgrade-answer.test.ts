/**
 * The answer to a WebSocket upgrade the app did not accept, written as any response of the app's
 * (through Node's writer and the response guard): over a real socket, what the client receives.
 * The apps build their Responses with the Response class node-server installs, which checks
 * nothing until converted.
 */
import type { ErrorContext } from '../../src/types'
import { connectTunnel, rawExchange, rawSocket, readHead, tlsOverTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { closeOf, within } from '../helpers/within'

/** A response as the client received it: its status line, headers (names lower case), body. */
interface Received {
  statusLine: string
  headers: [string, string][]
  body: string
}

/** Split what the client received on a connection the proxy closed after one response. */
function parse(received: string): Received {
  const end = received.indexOf('\r\n\r\n')
  const [statusLine = '', ...lines] = received.slice(0, end).split('\r\n')
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
  })
  return { statusLine, headers, body: received.slice(end + 4) }
}

/** The headers of `received` but those Node's writer adds to every response. */
function appHeaders(received: Received): [string, string][] {
  return received.headers.filter(([name]) => !['date', 'connection'].includes(name))
}

/** Whether `received` is the proxy's 502 for a refusal it could not send, closing after it. */
function isBadGateway(received: string): boolean {
  const reply = parse(received)
  return (
    reply.statusLine === 'HTTP/1.1 502 Bad Gateway' &&
    reply.body.startsWith("Bad Gateway: the app's response could not be sent (") &&
    reply.headers.some(([name, value]) => name === 'connection' && value === 'close')
  )
}

/** Statuses that pass a `>= 200 && <= 599` check but are not integers from 200 to 599. */
const statuses: Record<string, unknown> = {
  object: { valueOf: () => 250, toString: () => '200 OK\r\nSet-Cookie: injected=1\r\nX-Pad:' },
  string: '200\r\n\r\n',
  fraction: 200.5,
}

/** Headers Node's writer refuses, given as a plain object (node-server keeps it unchecked). */
const badHeaders: Record<string, Record<string, string>> = {
  'line-break': { 'X-Bad': 'a\r\nInjected: yes' },
  'control-character': { 'X-Bad': 'a\u0001b' },
  'bad-name': { 'Bad Name': 'x' },
}

let bodyCancelled: () => void = () => {}

function app(request: Request): Response {
  // The app sees the full URL as its path (the default resolver).
  const path = new URL(request.url).pathname.replace(/^\/https?:\/\/[^/]+/, '')
  const [, kind, name = ''] = path.split('/')
  switch (kind) {
    case 'status':
      return new Response(null, { status: statuses[name] as number })
    case 'header':
      return new Response('no', { status: 403, headers: badHeaders[name] })
    case 'hop-by-hop':
      return new Response('no', {
        status: 403,
        headers: {
          Connection: 'close, X-Secret',
          'X-Secret': '1',
          'Keep-Alive': 'timeout=5',
          'Proxy-Connection': 'keep-alive',
          'HTTP2-Settings': 'AAMAAABkAAQCAAAAAAIAAAAA',
          'Transfer-Encoding': 'chunked',
          Upgrade: 'h2c',
          TE: 'trailers',
          Trailer: 'X-Checksum',
          'X-Kept': 'yes',
        },
      })
    case 'cookies': {
      const headers = new Headers({ 'WWW-Authenticate': 'Basic realm="ws"' })
      headers.append('Set-Cookie', 'a=1')
      headers.append('Set-Cookie', 'b=2')
      return new Response('login first', { status: 401, headers })
    }
    case 'endless':
      return new Response(
        new ReadableStream({
          pull: () => new Promise<void>(() => {}),
          cancel: () => {
            bodyCancelled()
          },
        }),
        { status: 403 }
      )
    default:
      return new Response('not found', { status: 404 })
  }
}

let running: RunningProxy | undefined
const reports: { error: Error; context: ErrorContext }[] = []

beforeEach(async () => {
  reports.length = 0
  running = await startProxy(app, { onError: (error, context) => reports.push({ error, context }) })
})
afterEach(async () => {
  await running?.close()
  running = undefined
})

function proxy(): RunningProxy {
  if (!running) {
    throw new Error('no proxy')
  }
  return running
}

const UPGRADE_HEADERS =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

/** Everything the client receives for an absolute-form WebSocket upgrade of `path`. */
function upgrade(path: string): Promise<string> {
  return rawExchange(
    proxy().port,
    `GET http://example.com${path} HTTP/1.1\r\nHost: example.com\r\n${UPGRADE_HEADERS}`
  )
}

/** Everything the client receives for a wss:// upgrade of `path`, inside a CONNECT tunnel. */
async function secureUpgrade(path: string): Promise<string> {
  const { socket } = await connectTunnel(proxy().port, 'example.com:443')
  const secure = await tlsOverTunnel(socket, 'example.com', proxy().caPem)
  const received = closeOf(secure, 'the proxy did not close the refused upgrade')
  secure.write(`GET ${path} HTTP/1.1\r\nHost: example.com\r\n${UPGRADE_HEADERS}`)
  return (await received).toString('latin1')
}

/** What the client gets of the `/hop-by-hop` refusal's headers (a plain object: no type added). */
const HOP_BY_HOP_KEPT = [
  ['x-kept', 'yes'],
  ['content-length', '2'],
]

function appMessages(): string[] {
  return reports.filter((r) => r.context.phase === 'app').map((r) => r.error.message)
}

describe('refused upgrades', () => {
  it.each(Object.keys(statuses))(
    'answers 502 to the %s status, which passes a range check, and writes none of it',
    async (name) => {
      expect(isBadGateway(await upgrade(`/status/${name}`))).toBe(true)
      expect(appMessages()).toHaveLength(1)
      expect(appMessages()[0]).toMatch(
        /^The app's response could not be sent: it answered with status /
      )
    }
  )

  it('answers 502 to such a status over wss:// inside a tunnel too', async () => {
    expect(isBadGateway(await secureUpgrade('/status/object'))).toBe(true)
    const refused = parse(await secureUpgrade('/hop-by-hop'))
    expect(refused.statusLine).toBe('HTTP/1.1 403 Forbidden')
    expect(appHeaders(refused)).toEqual(HOP_BY_HOP_KEPT)
  })

  it('sends the refusal without hop-by-hop headers or the headers Connection names', async () => {
    const refused = parse(await upgrade('/hop-by-hop'))
    expect(refused.statusLine).toBe('HTTP/1.1 403 Forbidden')
    expect(appHeaders(refused)).toEqual(HOP_BY_HOP_KEPT)
    expect(refused.headers).toContainEqual(['connection', 'close'])
    expect(refused.body).toBe('no')
  })

  it.each(Object.keys(badHeaders))(
    'answers 502 to a refusal with a header Node refuses to write (%s)',
    async (name) => {
      const reply = await upgrade(`/header/${name}`)
      expect(isBadGateway(reply)).toBe(true)
      expect(reply).not.toContain('Injected')
      expect(appMessages()).toHaveLength(1)
      expect(appMessages()[0]).toMatch(/^The app's response could not be sent: \S/)
    }
  )

  it('keeps the status and every header of a refusal it can send', async () => {
    const refused = parse(await upgrade('/cookies'))
    expect(refused.statusLine).toBe('HTTP/1.1 401 Unauthorized')
    expect(appHeaders(refused)).toEqual(
      expect.arrayContaining([
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['www-authenticate', 'Basic realm="ws"'],
        ['content-length', '11'],
      ])
    )
    expect(refused.body).toBe('login first')
    expect(appMessages()).toEqual([])
  })

  it('cancels the streamed body of a refusal when its client leaves', async () => {
    const cancelled = new Promise<void>((resolve) => {
      bodyCancelled = resolve
    })
    const socket = await rawSocket(proxy().port)
    socket.write(
      `GET http://example.com/endless HTTP/1.1\r\nHost: example.com\r\n${UPGRADE_HEADERS}`
    )
    expect(await readHead(socket)).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    socket.destroy()
    await within(cancelled, "the app's never-ending body was not cancelled")
  })
})
