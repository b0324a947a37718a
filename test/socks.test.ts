/**
 * SOCKS5 on the proxy's own port: curl, raw handshakes for every reply code and malformed input,
 * deadlines, and admission through the same gate as CONNECT (credentials, failing resolvers,
 * SNI), each bad case followed by a good request.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import type { Resolver } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { proxyGet, rawSocket, requestOver, tlsOverTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import {
  readBytes,
  socksConnect,
  socksCredentials,
  socksExchange,
  socksRequest,
} from './helpers/socks'
import { missing } from './helpers/tools'

const run = promisify(execFile)

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const echoOf = (body: string) => JSON.parse(body) as Echo
const hex = (...bytes: number[]) => Buffer.from(bytes).toString('hex')

async function start(options: Parameters<typeof startProxy>[1] = {}): Promise<RunningProxy> {
  running = await startProxy(echoApp(), { prefix: '/p/', ...options })
  return running
}

function caFile(pem: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wsgiprox-socks-')), 'ca.pem')
  writeFileSync(file, pem)
  return file
}

/** A good SOCKS5 request after a bad case: the proxy still serves. */
async function expectServes(proxy: RunningProxy): Promise<void> {
  const { socket, reply } = await socksConnect(proxy.port, 'example.com', 80)
  expect(reply).toBe(0)
  const answer = await requestOver(socket, '/ok')
  expect(echoOf(answer.body).path).toBe('/p/http://example.com/ok')
  socket.destroy()
}

describe('socks5 with curl', () => {
  it.skipIf(missing('curl'))(
    'serves https and http to a domain target with --socks5-hostname',
    async () => {
      const proxy = await start()
      const cacert = caFile(proxy.caPem)
      const socks = `127.0.0.1:${proxy.port}`
      const https = await run('curl', [
        '-sS',
        '--cacert',
        cacert,
        '--socks5-hostname',
        socks,
        'https://example.com/a?b=c',
      ])
      expect(echoOf(https.stdout)).toMatchObject({
        path: '/p/https://example.com/a?b=c',
        proxyHost: 'wsgiprox',
      })
      const http = await run('curl', [
        '-sS',
        '--socks5-hostname',
        socks,
        'http://example.com:8000/x',
      ])
      expect(echoOf(http.stdout).path).toBe('/p/http://example.com:8000/x')
    }
  )

  it.skipIf(missing('curl'))('serves IPv4 and IPv6 targets with --socks5', async () => {
    const proxy = await start()
    const cacert = caFile(proxy.caPem)
    const socks = `127.0.0.1:${proxy.port}`
    const v4 = await run('curl', ['-sS', '--socks5', socks, 'http://10.1.2.3:8000/four'])
    expect(echoOf(v4.stdout).path).toBe('/p/http://10.1.2.3:8000/four')
    const v6 = await run('curl', [
      '-sS',
      '--cacert',
      cacert,
      '--socks5',
      socks,
      'https://[2001:db8::1]/six',
    ])
    expect(echoOf(v6.stdout).path).toBe('/p/https://[2001:db8::1]/six')
  })

  it.skipIf(missing('curl'))(
    'passes --proxy-user to ProxyAuthResolver, which puts the user in the path',
    async () => {
      const proxy = await start({ resolver: new ProxyAuthResolver() })
      const cacert = caFile(proxy.caPem)
      const { stdout } = await run('curl', [
        '-sS',
        '--cacert',
        cacert,
        '--socks5-hostname',
        `127.0.0.1:${proxy.port}`,
        '--proxy-user',
        'coll:pw',
        'https://example.com/x',
      ])
      expect(echoOf(stdout).path).toBe('/coll/https://example.com/x')
    }
  )

  it.skipIf(missing('curl'))('keeps the HTTP proxy working on the same port', async () => {
    const proxy = await start()
    const { stdout } = await run('curl', ['-sS', '-x', proxy.url, 'http://example.com/h'])
    expect(echoOf(stdout).path).toBe('/p/http://example.com/h')
  })

  it('turns SOCKS off with socks: false, leaving 0x05 to the HTTP parser', async () => {
    const proxy = await start({ socks: false })
    const answer = await socksExchange(proxy.port, [Buffer.from([0x05, 0x01, 0x00])])
    expect(answer.toString('latin1')).not.toContain('\x05\x00')
    expect((await proxyGet(proxy.port, 'http://example.com/still')).status).toBe(200)
  })
})

describe('socks5 handshake replies', () => {
  const greeting = Buffer.from([0x05, 0x01, 0x00])

  it.each([
    ['BIND', socksRequest('example.com', 80, 0x02), 0x07],
    ['UDP ASSOCIATE', socksRequest('example.com', 80, 0x03), 0x07],
    ['an unknown address type', Buffer.from([0x05, 0x01, 0x00, 0x09, 1, 2, 3, 4, 0, 80]), 0x08],
    ['an invalid host name', socksRequest('bad host!', 80), 0x02],
    ['port 0', socksRequest('example.com', 0), 0x02],
  ])('answers %s with reply %i and closes', async (_name, request, code) => {
    const proxy = await start()
    const answer = await socksExchange(proxy.port, [greeting, request])
    expect(answer.toString('hex')).toBe(hex(0x05, 0x00, 0x05, code, 0, 1, 0, 0, 0, 0, 0, 0))
    await expectServes(proxy)
  })

  it('answers 0xff to a greeting that offers no supported method', async () => {
    const proxy = await start()
    const answer = await socksExchange(proxy.port, [Buffer.from([0x05, 0x02, 0x01, 0x80])])
    expect(answer.toString('hex')).toBe(hex(0x05, 0xff))
    await expectServes(proxy)
  })

  it('answers 0xff to a no-authentication client when the resolver asks for credentials', async () => {
    const proxy = await start({ resolver: new ProxyAuthResolver() })
    const answer = await socksExchange(proxy.port, [greeting])
    expect(answer.toString('hex')).toBe(hex(0x05, 0xff))
  })

  it('chooses username/password when the resolver asks for credentials and both are offered', async () => {
    const proxy = await start({ resolver: new ProxyAuthResolver() })
    const socket = await rawSocket(proxy.port)
    socket.write(Buffer.from([0x05, 0x02, 0x00, 0x02]))
    expect((await readBytes(socket, 2)).toString('hex')).toBe(hex(0x05, 0x02))
    socket.destroy()
  })

  it('chooses no authentication when both are offered and the resolver asks for none', async () => {
    const proxy = await start()
    const socket = await rawSocket(proxy.port)
    socket.write(Buffer.from([0x05, 0x02, 0x02, 0x00]))
    expect((await readBytes(socket, 2)).toString('hex')).toBe(hex(0x05, 0x00))
    socket.destroy()
  })

  it('refuses a username with a colon, which Basic credentials cannot carry', async () => {
    const proxy = await start({ resolver: new ProxyAuthResolver() })
    const answer = await socksExchange(proxy.port, [
      Buffer.from([0x05, 0x01, 0x02]),
      socksCredentials('a:b', 'pw'),
    ])
    expect(answer.toString('hex')).toBe(hex(0x05, 0x02, 0x01, 0x01))
  })

  it.each([
    ['a greeting with no methods', [Buffer.from([0x05, 0x00])]],
    [
      'a request of another version',
      [greeting, Buffer.from([0x04, 0x01, 0x00, 0x01, 1, 2, 3, 4, 0, 80])],
    ],
    [
      'credentials of another version',
      [Buffer.from([0x05, 0x01, 0x02]), Buffer.from([0x05, 1, 0x61, 1, 0x62])],
    ],
    [
      'a truncated request, then the end',
      [greeting, Buffer.from([0x05, 0x01, 0x00, 0x03, 20, 0x61])],
    ],
    ['a truncated greeting, then the end', [Buffer.from([0x05, 0x03, 0x00])]],
  ])('closes the connection on %s', async (_name, parts) => {
    const proxy = await start()
    const answer = await socksExchange(proxy.port, parts, { end: true })
    // At most the method choice came back: no reply code, no tunnel.
    expect(answer.length).toBeLessThanOrEqual(2)
    await expectServes(proxy)
  })

  it('closes a client that stops mid-greeting once the handshake deadline passes', async () => {
    const proxy = await start({ handshakeTimeoutMs: 200 })
    const socket = await rawSocket(proxy.port)
    socket.on('error', () => {})
    socket.write(Buffer.from([0x05, 0x02, 0x00]))
    const started = performance.now()
    await once(socket, 'close')
    expect(performance.now() - started).toBeGreaterThanOrEqual(150)
    await expectServes(proxy)
  })

  it('serves a request sent in the same packet as the greeting, and a ClientHello right behind it', async () => {
    const proxy = await start()
    const socket = await rawSocket(proxy.port)
    socket.write(Buffer.concat([greeting, socksRequest('example.com', 443)]))
    expect((await readBytes(socket, 12)).toString('hex')).toBe(
      hex(0x05, 0x00, 0x05, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
    )
    const tls = await tlsOverTunnel(socket, 'example.com', proxy.caPem)
    expect(echoOf((await requestOver(tls, '/both')).body).path).toBe('/p/https://example.com/both')
    tls.destroy()
  })

  it('keeps a tunnel alive for many requests', async () => {
    const proxy = await start()
    const { socket } = await socksConnect(proxy.port, 'example.com', 443)
    const tls = await tlsOverTunnel(socket, 'example.com', proxy.caPem)
    for (const n of [1, 2, 3]) {
      expect(echoOf((await requestOver(tls, `/n${n}`)).body).path).toBe(
        `/p/https://example.com/n${n}`
      )
    }
    tls.destroy()
  })
})

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** Public hosts need no credentials; every other host needs alice's. */
function perHostPolicy(seen: string[] = []): Resolver {
  return {
    requireAuth: (request) => {
      const auth = request.headers.get('proxy-authorization')
      seen.push(`${new URL(request.url).hostname} ${auth ?? '-'}`)
      return new URL(request.url).hostname.startsWith('public.') ||
        auth === basic('alice', 'secret')
        ? undefined
        : 'private hosts'
    },
    resolve: (url) => `/p/${url}`,
  }
}

describe('socks5 admission', () => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('resolver down')
      },
    ],
    ['rejects', () => Promise.reject(new Error('resolver down'))],
  ])('refuses the tunnel with reply 0x01 when requireAuth %s', async (_name, requireAuth) => {
    const proxy = await start({ resolver: { requireAuth, resolve: (url) => `/p/${url}` } })
    const { reply } = await socksConnect(proxy.port, 'example.com', 443, {
      user: 'u',
      password: 'p',
    })
    expect(reply).toBe(0x01)
    expect(proxy.errors.map((error) => error.message).join('\n')).toContain('resolver down')
  })

  it('refuses a client without credentials with reply 0x01 when requireAuth throws', async () => {
    const requireAuth = () => {
      throw new Error('resolver down')
    }
    const proxy = await start({ resolver: { requireAuth, resolve: (url) => `/p/${url}` } })
    const { reply } = await socksConnect(proxy.port, 'example.com', 443)
    expect(reply).toBe(0x01)
  })

  it('refuses with reply 0x02 when the credentials do not admit the target', async () => {
    const proxy = await start({ resolver: perHostPolicy() })
    const { reply } = await socksConnect(proxy.port, 'secret.example', 443, {
      user: 'bob',
      password: 'x',
    })
    expect(reply).toBe(0x02)
  })

  it('binds the credentials to the tunnel: a Proxy-Authorization sent inside is ignored', async () => {
    const seen: string[] = []
    const proxy = await start({ resolver: perHostPolicy(seen) })
    const { socket, reply } = await socksConnect(proxy.port, 'secret.example', 443, {
      user: 'alice',
      password: 'secret',
    })
    expect(reply).toBe(0)
    const tls = await tlsOverTunnel(socket, 'secret.example', proxy.caPem)
    const answer = await requestOver(tls, '/in', {
      host: 'secret.example',
      headers: { 'Proxy-Authorization': basic('bob', 'x') },
    })
    const echo = echoOf(answer.body)
    expect(echo.path).toBe('/p/https://secret.example/in')
    expect(echo.headers['proxy-authorization']).toBeUndefined()
    expect(seen).toEqual([
      `secret.example ${basic('alice', 'secret')}`,
      `secret.example ${basic('alice', 'secret')}`,
    ])
    tls.destroy()
  })

  it('refuses an SNI name the tunnel was not admitted for, as in CONNECT tunnels', async () => {
    const proxy = await start({ resolver: perHostPolicy() })
    const { socket, reply } = await socksConnect(proxy.port, 'public.example', 443, {
      user: 'bob',
      password: 'x',
    })
    expect(reply).toBe(0)
    await expect(tlsOverTunnel(socket, 'secret.example', proxy.caPem)).rejects.toThrow()
    expect(proxy.errors.map((error) => error.message).join('\n')).toContain(
      'SNI name secret.example is not admitted'
    )
  })

  it('serves an SNI name the tunnel credentials admit, as that host', async () => {
    const proxy = await start({ resolver: perHostPolicy() })
    const { socket } = await socksConnect(proxy.port, 'public.example', 443, {
      user: 'alice',
      password: 'secret',
    })
    const tls = await tlsOverTunnel(socket, 'secret.example', proxy.caPem)
    const answer = await requestOver(tls, '/s', { host: 'secret.example' })
    expect(echoOf(answer.body).path).toBe('/p/https://secret.example/s')
    tls.destroy()
  })
})
