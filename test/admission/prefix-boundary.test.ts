import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { FixedResolver, ProxyAuthResolver } from '../../src/admission/resolvers'
import { OptionsError } from '../../src/errors'
import { createProxy } from '../../src/proxy'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import { connectTunnel, rawExchange, requestOver, tlsOverTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { missing } from '../helpers/tools'

const run = promisify(execFile)

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const basic = (user: string) => `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`
const echoOf = (body: string) => JSON.parse(body) as Echo

/** Dot segments as clients can send them, and where browsers' URL parsing leaves them. */
const CLIMBS: [string, string][] = [
  ['/../../../../bob/x', '/bob/x'],
  ['/a/../../x', '/x'],
  ['/%2e%2e/%2e%2e/x', '/x'],
  ['/%2E%2e/x?q=/../', '/x?q=/../'],
  ['/a/.%2e/.%2E/x', '/x'],
  ['/./x/.', '/x/'],
  ['/a\\..\\..\\x', '/x'],
  // After a segment other than the first that starts with '.', Node 20's URL parser removes no dot segment (found by
  // the admission fuzz target).
  ['/a/.b/../../../../x', '/x'],
  ['/a/.b/./c/.', '/a/.b/c/'],
]

describe('the prefix is a boundary', () => {
  it.each(CLIMBS)('keeps the absolute-form path %j under the prefix', async (path, normal) => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const reply = await rawExchange(
      running.port,
      `GET http://example.com${path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`
    )
    const body = reply.slice(reply.indexOf('\r\n\r\n') + 4)
    expect(echoOf(body).path).toBe(`/prefix/http://example.com${normal}`)
  })

  it.each(CLIMBS)(
    'keeps the path %j inside a TLS tunnel under the prefix',
    async (path, normal) => {
      running = await startProxy(echoApp(), { prefix: '/prefix/' })
      const { socket } = await connectTunnel(running.port, 'example.com:443')
      const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
      const reply = await requestOver(tls, path)
      expect(echoOf(reply.body).path).toBe(`/prefix/https://example.com${normal}`)
    }
  )

  it.skipIf(missing('curl'))(
    'keeps curl --path-as-is under the user name of ProxyAuthResolver',
    async () => {
      running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
      const { stdout } = await run('curl', [
        '-sS',
        '--path-as-is',
        '-x',
        `http://alice:secret@127.0.0.1:${running.port}`,
        'http://example.com/../../../../bob/x',
      ])
      expect(echoOf(stdout).path).toBe('/alice/http://example.com/bob/x')
    }
  )

  it.each(['..', '.', 'a/../..', '%2e%2e', 'x/./y'])(
    'asks again for credentials when the ProxyAuthResolver user name is %j',
    async (user) => {
      running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver('name?') })
      const { status } = await connectTunnel(running.port, 'example.com:443', {
        'Proxy-Authorization': basic(user),
      })
      expect(status).toBe(407)
      const reply = await rawExchange(
        running.port,
        `GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: ${basic(user)}\r\nConnection: close\r\n\r\n`
      )
      expect(reply).toMatch(/^HTTP\/1\.1 407 /)
    }
  )

  it('refuses a function resolver whose answer would climb out of what it chose', async () => {
    running = await startProxy(echoApp(), {
      resolver: (url) => `/users/../admin/${url}`,
    })
    const reply = await rawExchange(
      running.port,
      'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 500 /)
    expect(running.errors.map((error) => error.message)).toEqual([
      "resolve failed: the resolver returned a path with a '.' or '..' segment",
    ])
  })

  it.each(['/a/../b/', '/./', '/a\\b/', '/a?b/', '/a#b/', '/a b/', '/%2e%2e/'])(
    'refuses the prefix option %j at createProxy',
    (prefix) => {
      expect(() => createProxy(echoApp(), { prefix })).toThrow(OptionsError)
      expect(() => new FixedResolver(prefix)).toThrow(/must be a plain path/)
    }
  )

  it('adds the leading slash a prefix lacks', () => {
    expect(new FixedResolver('prefix/').prefix).toBe('/prefix/')
  })

  it('adds the trailing slash a prefix lacks, as the prefix option', async () => {
    expect(new FixedResolver('/prefix').prefix).toBe('/prefix/')
    running = await startProxy(echoApp(), { prefix: 'noslash' })
    const reply = await rawExchange(
      running.port,
      'GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    )
    expect(echoOf(reply.slice(reply.indexOf('\r\n\r\n') + 4)).path).toBe(
      '/noslash/http://example.com/a'
    )
  })
})
