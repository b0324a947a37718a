import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect as http2Connect } from 'node:http2'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { ProxyAuthResolver, proxyUser } from '../../src/admission/resolvers'
import type { Resolver } from '../../src/types'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import { connectTunnel, proxyGet, requestOver, tlsOverTunnel } from '../helpers/clients'
import { hasOpenssl, openssl } from '../helpers/openssl'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

const PASSWORDS: Record<string, string> = { alice: 'secret', bob: 'hunter2' }

/** A resolver that checks passwords, as the README shows; what it saw is recorded. */
function passwordResolver(seen: string[] = []): Resolver {
  const valid = (request: Request) => {
    const header = request.headers.get('proxy-authorization') ?? ''
    const [user = '', password] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':')
    return PASSWORDS[user] !== undefined && PASSWORDS[user] === password ? user : undefined
  }
  return {
    requireAuth: (request) => {
      seen.push(`${request.url} ${proxyUser(request) ?? '-'}`)
      return valid(request) ? undefined : 'wsgiprox'
    },
    resolve: (url, request) => `/${valid(request) ?? 'nobody'}/${url}`,
  }
}

/** Public hosts need no credentials; every other host needs alice's. */
const perHostPolicy: Resolver = {
  requireAuth: (request) =>
    new URL(request.url).hostname.startsWith('public.') ||
    request.headers.get('proxy-authorization') === basic('alice', 'secret')
      ? undefined
      : 'private hosts',
  resolve: (url) => `/p/${url}`,
}

const echoOf = (body: string) => JSON.parse(body) as Echo

describe('credentials belong to the tunnel', () => {
  it('ignores credentials sent inside a TLS tunnel; the resolver sees the CONNECT ones', async () => {
    const seen: string[] = []
    running = await startProxy(echoApp(), { resolver: passwordResolver(seen) })
    const { socket, status } = await connectTunnel(running.port, 'example.com:443', {
      'Proxy-Authorization': basic('alice', 'secret'),
    })
    expect(status).toBe(200)
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await requestOver(tls, '/x', {
      headers: { 'Proxy-Authorization': basic('bob', 'WRONG') },
    })
    const echo = echoOf(reply.body)
    expect(echo.path).toBe('/alice/https://example.com/x')
    expect(echo.headers['proxy-authorization']).toBeUndefined()
    expect(seen).toEqual(['https://example.com/ alice', 'https://example.com/x alice'])
  })

  it('ignores credentials sent inside a plain tunnel', async () => {
    running = await startProxy(echoApp(), { resolver: passwordResolver() })
    const { socket } = await connectTunnel(running.port, 'example.com:80', {
      'Proxy-Authorization': basic('bob', 'hunter2'),
    })
    const reply = await requestOver(socket, '/y', {
      headers: { 'Proxy-Authorization': basic('alice', 'secret') },
    })
    expect(echoOf(reply.body).path).toBe('/bob/http://example.com/y')
  })

  it('does not let credentials inside a tunnel opened without any pass', async () => {
    running = await startProxy(echoApp(), { resolver: perHostPolicy })
    const { socket } = await connectTunnel(running.port, 'public.example:80')
    const reply = await requestOver(socket, '/', {
      host: 'public.example',
      headers: { 'Proxy-Authorization': basic('alice', 'secret') },
    })
    expect(echoOf(reply.body).path).toBe('/p/http://public.example/')
    const other = await requestOver(socket, 'http://secret.example/', {
      host: 'secret.example',
      headers: { 'Proxy-Authorization': basic('alice', 'secret') },
    })
    expect(other.status).toBe(421)
  })

  it.each([
    ['no credentials', {}],
    ['a wrong password', { 'Proxy-Authorization': basic('alice', 'WRONG') }],
  ])('answers 407 to a CONNECT with %s, before any tunnel', async (_name, headers) => {
    running = await startProxy(echoApp(), { resolver: passwordResolver() })
    const { status, head } = await connectTunnel(running.port, 'example.com:443', headers)
    expect(status).toBe(407)
    expect(head).toContain('Proxy-Authenticate: Basic realm="wsgiprox"')
  })
})

describe('the host belongs to the tunnel', () => {
  it('refuses a TLS handshake whose SNI names a host the tunnel was not admitted for', async () => {
    running = await startProxy(echoApp(), { resolver: perHostPolicy })
    const { socket } = await connectTunnel(running.port, 'public.example:443')
    await expect(tlsOverTunnel(socket, 'secret.example', running.caPem)).rejects.toThrow()
    expect(running.errors.map((error) => error.message).join('\n')).toContain(
      'SNI name secret.example is not admitted'
    )
  })

  it('serves an SNI name the tunnel credentials admit, as that host', async () => {
    running = await startProxy(echoApp(), { resolver: perHostPolicy })
    const { socket } = await connectTunnel(running.port, 'public.example:443', {
      'Proxy-Authorization': basic('alice', 'secret'),
    })
    const tls = await tlsOverTunnel(socket, 'secret.example', running.caPem)
    const reply = await requestOver(tls, '/s', { host: 'secret.example' })
    expect(echoOf(reply.body).path).toBe('/p/https://secret.example/s')
  })

  it.each([
    ['an absolute-form target', 'http://secret.example/x', 'public.example'],
    ['an https absolute-form target', 'https://secret.example/x', 'public.example'],
    ['a Host header', '/x', 'secret.example'],
    ['a Host header with a port', '/x', 'secret.example:443'],
  ])(
    'answers 421 to a request inside a TLS tunnel that names another host in %s',
    async (_name, path, host) => {
      running = await startProxy(echoApp(), { resolver: perHostPolicy })
      const { socket } = await connectTunnel(running.port, 'public.example:443')
      const tls = await tlsOverTunnel(socket, 'public.example', running.caPem)
      const reply = await requestOver(tls, path, { host })
      expect(reply.status).toBe(421)
      expect(reply.body).toBe(
        'Misdirected request: this tunnel is for public.example, not secret.example\n'
      )
    }
  )

  it('answers 421 inside a plain tunnel too', async () => {
    running = await startProxy(echoApp(), { resolver: perHostPolicy })
    const { socket } = await connectTunnel(running.port, 'public.example:80')
    const reply = await requestOver(socket, 'http://secret.example/x', { host: 'secret.example' })
    expect(reply.status).toBe(421)
  })

  // Whichever way a request names a port (written out in an absolute URL, in Host, or in
  // :authority), a port that is not the tunnel's is refused, the scheme's default included.
  it.each([
    [
      'an absolute URL naming :80',
      'example.com:8080',
      'http://example.com:80/',
      'example.com:8080',
    ],
    ['a Host naming :80', 'example.com:8080', '/', 'example.com:80'],
    [
      'an absolute URL naming :443',
      'example.com:8443',
      'https://example.com:443/',
      'example.com:8443',
    ],
    ['a Host naming :443', 'example.com:8443', '/', 'example.com:443'],
  ])('answers 421 to %s inside a tunnel to %s', async (_name, authority, target, host) => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const { socket } = await connectTunnel(running.port, authority)
    const tls = authority.endsWith(':8443')
      ? await tlsOverTunnel(socket, 'example.com', running.caPem)
      : socket
    const reply = await exchangeOver(
      tls,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
    )
    const tunnelPort = authority.split(':')[1] ?? ''
    const namedPort = tunnelPort === '8080' ? '80' : '443'
    expect(reply).toMatch(/^HTTP\/1\.1 421 /)
    expect(reply).toContain(
      `Misdirected request: this tunnel is for example.com:${tunnelPort}, not example.com:${namedPort}\n`
    )
  })

  it('answers 421 to an HTTP/2 :authority naming :443 inside a tunnel to 8443', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const { socket } = await connectTunnel(running.port, 'example.com:8443')
    const tls = tlsConnect({
      socket,
      servername: 'example.com',
      ca: running.caPem,
      ALPNProtocols: ['h2'],
    })
    await once(tls, 'secureConnect')
    const session = http2Connect('https://example.com:8443', { createConnection: () => tls })
    const stream = session.request({ ':path': '/x', ':authority': 'example.com:443' })
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>]
    stream.resume()
    session.close()
    expect(headers[':status']).toBe(421)
  })

  it('serves an absolute URL naming :443 inside a TLS tunnel to 443', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await exchangeOver(
      tls,
      'GET https://example.com:443/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).toContain('"path":"/https://example.com/x"')
  })

  it('serves an absolute-form request for the tunnel host inside TLS as https', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await requestOver(tls, 'http://example.com/x?y')
    expect(echoOf(reply.body).path).toBe('/https://example.com/x?y')
  })

  it('answers 400 with a reason to a malformed Host inside a tunnel', async () => {
    running = await startProxy(echoApp())
    const { socket } = await connectTunnel(running.port, 'example.com:80')
    const reply = await requestOver(socket, '/x', { host: 'exa mple.com' })
    expect(reply.status).toBe(400)
    expect(reply.body).toBe('Invalid Host header: "exa mple.com"\n')
  })

  it('serves a client that CONNECTs to an IP address and names the host in SNI only', async () => {
    // Python's http.client with an SNI override: Host stays the CONNECT address.
    running = await startProxy(echoApp(), { prefix: '/' })
    const { socket } = await connectTunnel(running.port, '10.0.35.1:443')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await requestOver(tls, '/a', { host: '10.0.35.1' })
    expect(echoOf(reply.body).path).toBe('/https://example.com/a')
  })

  it.each(['TLSv1.3', 'TLSv1.2'] as const)(
    'puts the SNI name of a resumed %s session to admission with the new tunnel credentials',
    async (version) => {
      running = await startProxy(echoApp(), { resolver: perHostPolicy })
      const alice = { 'Proxy-Authorization': basic('alice', 'secret') }
      const first = await resumableOver(
        running,
        'public.example:443',
        alice,
        'secret.example',
        version
      )
      expect(first.reused).toBe(false)
      // Another tunnel, without alice's credentials, resumes her session for the same SNI name.
      const { socket } = await connectTunnel(running.port, 'public.example:443')
      const resumed = tlsConnect({
        socket,
        servername: 'secret.example',
        ca: running.caPem,
        session: first.session,
        maxVersion: version,
      })
      const served = new Promise<boolean>((resolve) => {
        resumed.once('data', () => {
          resolve(true)
        })
        resumed.once('close', () => {
          resolve(false)
        })
      })
      resumed.on('error', () => undefined)
      resumed.once('secureConnect', () => {
        expect(resumed.isSessionReused()).toBe(true)
        resumed.write('GET /s HTTP/1.1\r\nHost: public.example\r\n\r\n')
      })
      expect(await served).toBe(false)
      expect(running.errors.map((error) => error.message).join('\n')).toContain(
        'SNI name secret.example is not admitted'
      )
    }
  )

  it.skipIf(!hasOpenssl)(
    'refuses an SNI name to openssl s_client resuming, in an anonymous tunnel, the session of a login',
    async () => {
      running = await startProxy(echoApp(), { resolver: perHostPolicy })
      const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-resume-'))
      await writeFile(join(dir, 'ca.pem'), running.caPem)
      const sClient = (...more: string[]) =>
        openssl(
          [
            's_client',
            ...['-proxy', `127.0.0.1:${String(running?.port)}`, '-connect', 'public.example:443'],
            ...['-servername', 'secret.example', '-CAfile', join(dir, 'ca.pem'), '-tls1_3'],
            ...['-ign_eof', ...more],
          ],
          { input: 'GET /s HTTP/1.1\r\nHost: secret.example\r\nConnection: close\r\n\r\n' }
        )
      const session = join(dir, 'session.pem')
      const alice = await sClient('-proxy_user', 'alice', '-proxy_pass', 'pass:secret')
      expect(alice.stdout).toContain('/p/https://secret.example/s')
      await sClient('-proxy_user', 'alice', '-proxy_pass', 'pass:secret', '-sess_out', session)
      const anonymous = await sClient('-sess_in', session)
      await rm(dir, { recursive: true, force: true })
      expect(anonymous.stdout).toMatch(/^Reused/m)
      expect(anonymous.stdout).not.toContain('HTTP/1.1')
    }
  )

  it.each(['TLSv1.3', 'TLSv1.2'] as const)(
    'serves a resumed %s session as the host its SNI names',
    async (version) => {
      running = await startProxy(echoApp(), { prefix: '/' })
      const first = await resumableOver(running, '10.0.35.1:443', {}, 'example.com', version)
      const again = await resumableOver(
        running,
        '10.0.35.1:443',
        {},
        'example.com',
        version,
        first.session
      )
      expect(again.reused).toBe(true)
      expect(echoOf(again.body).path).toBe('/https://example.com/a')
    }
  )

  it('keeps ProxyAuthResolver users on their own prefix inside a tunnel', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const { socket } = await connectTunnel(running.port, 'example.com:443', {
      'Proxy-Authorization': basic('coll', ''),
    })
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await requestOver(tls, '/x', {
      headers: { 'Proxy-Authorization': basic('other', '') },
    })
    expect(echoOf(reply.body).path).toBe('/coll/https://example.com/x')
  })
})

describe('SNI names', () => {
  it.each([
    'a.com/evil',
    'a.com/../../../../tmp/evil',
    'a.com?x',
    'a..com',
    '-x.example',
    'a b.com',
  ])(
    'refuses the handshake for the SNI name %j, and serves the next client',
    async (servername) => {
      running = await startProxy(echoApp())
      const { socket } = await connectTunnel(running.port, 'example.com:443')
      const secure = tlsConnect({ socket, servername, ca: running.caPem })
      const [error] = (await once(secure, 'error')) as [Error]
      expect(error.message).toMatch(/alert|ECONNRESET|socket hang up|disconnected/)
      const good = await proxyGet(running.port, 'http://example.com/next')
      expect(good.status).toBe(200)
    }
  )
})

// With the default resolver the gate keeps each connection's last decision (last-decision.ts):
// on one kept-alive connection, a request that changes only its host must still be refused, and
// the one after it served again.
describe('decisions kept on a connection', () => {
  it('refuses a switched Host, or a CONNECT, right after a served request in a TLS tunnel', async () => {
    const proxy = await startProxy(echoApp())
    running = proxy
    const open = async () => {
      const { socket } = await connectTunnel(proxy.port, 'example.com:443')
      return tlsOverTunnel(socket, 'example.com', proxy.caPem)
    }
    const tls = await open()
    const first = await requestOver(tls, '/a')
    const switched = await requestOver(tls, '/a', { host: 'other.example' })
    expect(echoOf(first.body).path).toBe('/https://example.com/a')
    expect(switched.status).toBe(421)
    // A refusal closes its connection; the next check gets a tunnel of its own.
    const second = await open()
    const served = await requestOver(second, '/a')
    second.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    const chunks: Buffer[] = []
    second.on('data', (chunk: Buffer) => chunks.push(chunk))
    await once(second, 'close')
    expect(echoOf(served.body).path).toBe('/https://example.com/a')
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 405 /)
  })

  it('decides each absolute-form request on a kept-alive direct connection afresh', async () => {
    running = await startProxy(echoApp())
    const socket = connect(running.port, '127.0.0.1')
    await once(socket, 'connect')
    const first = await requestOver(socket, 'http://example.com/x')
    // Only the target changes: the Host header stays example.com.
    const bad = await requestOver(socket, 'http://exa%20mple.com/x')
    expect(echoOf(first.body).path).toBe('/http://example.com/x')
    expect(bad.status).toBe(400)
    // The refusal closed that connection; a new one asks the first again.
    const fresh = connect(running.port, '127.0.0.1')
    await once(fresh, 'connect')
    const again = await requestOver(fresh, 'http://example.com/x')
    const other = await requestOver(fresh, 'http://other.example/x', { host: 'other.example' })
    expect(echoOf(again.body).path).toBe('/http://example.com/x')
    expect(echoOf(other.body).path).toBe('/http://other.example/x')
    fresh.destroy()
  })
})

/** Write `text` on a connection (a tunnel, with or without TLS) and read all until it closes. */
async function exchangeOver(socket: Socket, text: string): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.write(text)
  await once(socket, 'close')
  return Buffer.concat(chunks).toString('latin1')
}

/**
 * One request (Host: the CONNECT host) over TLS in a new tunnel, named `servername` and resuming
 * `session` if given; the session it leaves, for the next tunnel to resume.
 */
async function resumableOver(
  proxy: RunningProxy,
  target: string,
  headers: Record<string, string>,
  servername: string,
  maxVersion: 'TLSv1.3' | 'TLSv1.2',
  session?: Buffer
): Promise<{ body: string; session: Buffer; reused: boolean }> {
  const { socket } = await connectTunnel(proxy.port, target, headers)
  const tls = tlsConnect({ socket, servername, ca: proxy.caPem, session, maxVersion })
  let left: Buffer | undefined
  // TLS 1.3 sends its tickets right after the handshake, before any response.
  tls.on('session', (ticket: Buffer) => (left = ticket))
  await once(tls, 'secureConnect')
  const reused = tls.isSessionReused()
  const reply = await requestOver(tls, '/a', { host: target.replace(/:443$/, '') })
  tls.destroy()
  return { body: reply.body, session: left ?? Buffer.alloc(0), reused }
}
