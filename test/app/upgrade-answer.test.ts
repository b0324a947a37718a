/**
 * The answer to a WebSocket upgrade the app did not accept, which @hono/node-server writes on the
 * raw socket itself: over a real socket, exactly what the client receives. The apps build their
 * Responses with the Response class node-server installs, which checks nothing until converted.
 */
import type { ErrorContext } from '../../src/types'
import { connectTunnel, rawExchange, tlsOverTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { closeOf, within } from '../helpers/within'

/** What node-server writes before the app's own headers, and after them. */
const PREFIX = 'Connection: close\r\nContent-Length: 0\r\n'
const BAD_GATEWAY = `HTTP/1.1 502 Bad Gateway\r\n${PREFIX}\r\n`

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

function appMessages(): string[] {
  return reports.filter((r) => r.context.phase === 'app').map((r) => r.error.message)
}

describe('refused upgrades', () => {
  it.each(Object.keys(statuses))(
    'answers 502 to the %s status, which passes a range check, and writes none of it',
    async (name) => {
      expect(await upgrade(`/status/${name}`)).toBe(BAD_GATEWAY)
      expect(appMessages()).toHaveLength(1)
      expect(appMessages()[0]).toMatch(
        /^The app's response could not be sent: it answered the upgrade with status /
      )
    }
  )

  it('answers 502 to such a status over wss:// inside a tunnel too', async () => {
    expect(await secureUpgrade('/status/object')).toBe(BAD_GATEWAY)
    expect(await secureUpgrade('/hop-by-hop')).toBe(
      `HTTP/1.1 403 Forbidden\r\n${PREFIX}x-kept: yes\r\n\r\n`
    )
  })

  it('sends the refusal without hop-by-hop headers or the headers Connection names', async () => {
    expect(await upgrade('/hop-by-hop')).toBe(
      `HTTP/1.1 403 Forbidden\r\n${PREFIX}x-kept: yes\r\n\r\n`
    )
  })

  it.each(Object.keys(badHeaders))(
    'answers 502 to a refusal with a header Node refuses to write (%s)',
    async (name) => {
      const reply = await upgrade(`/header/${name}`)
      expect(reply).toBe(BAD_GATEWAY)
      expect(reply).not.toContain('Injected')
      expect(appMessages()).toHaveLength(1)
      expect(appMessages()[0]).toMatch(/^The app's response could not be sent: \S/)
    }
  )

  it('keeps the status and every header of a refusal it can send', async () => {
    expect(await upgrade('/cookies')).toBe(
      `HTTP/1.1 401 Unauthorized\r\n${PREFIX}` +
        'set-cookie: a=1\r\nset-cookie: b=2\r\nwww-authenticate: Basic realm="ws"\r\n\r\n'
    )
    expect(appMessages()).toEqual([])
  })

  it('cancels the body of a refusal, which nothing reads', async () => {
    const cancelled = new Promise<void>((resolve) => {
      bodyCancelled = resolve
    })
    expect(await upgrade('/endless')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    await within(cancelled, "the app's never-ending body was not cancelled")
  })
})
