import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { FixedResolver } from '../src/resolvers'
import type { TranslateContext, TunnelInfo } from '../src/translate'
import { originOf, parseAuthority, resolverRequest, targetOf, translate } from '../src/translate'

function incoming(url: string, rawHeaders: string[]): IncomingMessage {
  const message = new IncomingMessage(new Socket())
  message.url = url
  message.method = 'GET'
  message.rawHeaders = rawHeaders
  const headers: Record<string, string> = {}
  for (let i = 0; i < rawHeaders.length; i += 2) {
    headers[(rawHeaders[i] ?? '').toLowerCase()] = rawHeaders[i + 1] ?? ''
  }
  message.headers = headers
  return message
}

const resolver = new FixedResolver('/prefix/')
const context: TranslateContext = {
  proxyHost: 'wsgiprox',
  proxyHosts: new Set(['wsgiprox', 'proxy-alias']),
  resolve: (url) => resolver.resolve(url),
}
const tunnel: TunnelInfo = { host: 'example.com', port: 443, proxyAuthorization: undefined }

describe('parseAuthority', () => {
  it.each([
    ['example.com:443', undefined, { host: 'example.com', port: 443 }],
    ['Example.COM:8443', undefined, { host: 'example.com', port: 8443 }],
    ['[::1]:443', undefined, { host: '::1', port: 443 }],
    ['127.0.0.1:80', undefined, { host: '127.0.0.1', port: 80 }],
    ['example.com', 80, { host: 'example.com', port: 80 }],
  ])('parses %s', (authority, defaultPort, expected) => {
    expect(parseAuthority(authority, defaultPort)).toEqual(expected)
  })

  it.each([
    'example.com',
    'example.com:0',
    'example.com:70000',
    ':443',
    'a b:443',
    '[zz]:443',
    '[1.2.3.4]:443',
    'user@host:443',
  ])('refuses %s without a default port', (authority) => {
    expect(parseAuthority(authority, undefined)).toBeUndefined()
  })
})

describe('targetOf', () => {
  it.each([
    [
      'http://example.com:8000/a?b',
      { scheme: 'http', host: 'example.com', port: 8000, path: '/a?b' },
    ],
    ['http://example.com', { scheme: 'http', host: 'example.com', port: 80, path: '/' }],
    ['HTTPS://EXAMPLE.com/x', { scheme: 'https', host: 'example.com', port: 443, path: '/x' }],
    ['http://[::1]:8080/', { scheme: 'http', host: '::1', port: 8080, path: '/' }],
  ])('reads the target of absolute-form %s', (url, expected) => {
    expect(targetOf(url, undefined, false, undefined)).toEqual(expected)
  })

  it('reads the target of a path inside a TLS tunnel from the tunnel', () => {
    expect(targetOf('/a?b', tunnel, true, undefined)).toEqual({
      scheme: 'https',
      host: 'example.com',
      port: 443,
      path: '/a?b',
    })
  })

  it('uses the SNI name when it differs from the CONNECT host', () => {
    const ipTunnel = { ...tunnel, host: '10.0.0.1' }
    expect(targetOf('/', ipTunnel, true, 'Real.Example.org')).toMatchObject({
      host: 'real.example.org',
    })
  })

  it('uses http inside a plain tunnel', () => {
    expect(targetOf('/', { ...tunnel, port: 80 }, false, undefined)).toMatchObject({
      scheme: 'http',
      port: 80,
    })
  })

  it('leaves origin-form requests outside tunnels alone', () => {
    expect(targetOf('/a', undefined, false, undefined)).toBeUndefined()
  })

  it.each(['http://exa mple.com/', 'http:///path', 'http://a@b/', 'http://example.com:99999/'])(
    'refuses the invalid absolute URL %s',
    (url) => {
      expect(targetOf(url, undefined, false, undefined)).toBeInstanceOf(Error)
    }
  )
})

describe('originOf', () => {
  it.each([
    [{ scheme: 'https', host: 'example.com', port: 443 }, 'https://example.com'],
    [{ scheme: 'https', host: 'example.com', port: 123 }, 'https://example.com:123'],
    [{ scheme: 'http', host: 'example.com', port: 80 }, 'http://example.com'],
    [{ scheme: 'http', host: 'example.com', port: 443 }, 'http://example.com:443'],
    [{ scheme: 'https', host: '::1', port: 8443 }, 'https://[::1]:8443'],
  ])('shows the port only when it is not the default: %j', (target, expected) => {
    expect(originOf(target)).toBe(expected)
  })
})

describe('translate', () => {
  it('resolves absolute-form requests through the resolver and sets the proxy-host header', () => {
    const message = incoming('http://example.com:8000/a?b', [
      'Host',
      'example.com:8000',
      'Accept',
      '*/*',
    ])
    expect(translate(message, undefined, context)).toMatchObject({
      kind: 'proxy',
      proxyHost: 'wsgiprox',
    })
    expect(message.url).toBe('/prefix/http://example.com:8000/a?b')
    expect(message.rawHeaders).toEqual([
      'Host',
      'example.com:8000',
      'Accept',
      '*/*',
      'X-Wsgiprox-Proxy-Host',
      'wsgiprox',
    ])
    expect(message.headers['x-wsgiprox-proxy-host']).toBe('wsgiprox')
  })

  it('leaves proxy-host paths untranslated and names the matched host', () => {
    const message = incoming('http://proxy-alias/path/file.html?A=B', ['Host', 'proxy-alias'])
    expect(translate(message, undefined, context)).toMatchObject({ matchedHost: 'proxy-alias' })
    expect(message.url).toBe('/path/file.html?A=B')
    expect(message.headers['x-wsgiprox-proxy-host']).toBe('proxy-alias')
  })

  it('strips proxy credentials, Proxy-Connection and a forged proxy-host header from both views', () => {
    const message = incoming('http://example.com/', [
      'Host',
      'example.com',
      'Proxy-Authorization',
      'Basic dXNlcjpwYXNz',
      'Proxy-Connection',
      'keep-alive',
      'X-Wsgiprox-Proxy-Host',
      'forged',
    ])
    void translate(message, undefined, context)
    expect(message.rawHeaders).toEqual(['Host', 'example.com', 'X-Wsgiprox-Proxy-Host', 'wsgiprox'])
    expect(message.headers).toEqual({ host: 'example.com', 'x-wsgiprox-proxy-host': 'wsgiprox' })
  })

  it('replaces a Host header that disagrees with the absolute-form target', () => {
    const message = incoming('http://example.com/', ['Host', 'other.org'])
    void translate(message, undefined, context)
    expect(message.headers.host).toBe('example.com')
    expect(message.rawHeaders.slice(0, 2)).toEqual(['Host', 'example.com'])
  })

  it('adds a Host header for HTTP/1.0 clients that send none', () => {
    const message = incoming('/x', [])
    void translate(message, { ...tunnel, port: 8443 }, context)
    expect(message.headers.host).toBe('example.com:8443')
  })

  it('passes origin-form requests through without a proxy-host header, even a forged one', () => {
    const message = incoming('/a', ['Host', 'localhost', 'X-Wsgiprox-Proxy-Host', 'forged'])
    expect(translate(message, undefined, context)).toEqual({ kind: 'passthrough' })
    expect(message.url).toBe('/a')
    expect(message.headers['x-wsgiprox-proxy-host']).toBeUndefined()
  })

  it('awaits an async resolver and gives it the full URL and the request', async () => {
    const seen: string[] = []
    const asyncContext: TranslateContext = {
      ...context,
      resolve: (url, incoming, tunnel) => {
        seen.push(url, resolverRequest(incoming, url, tunnel).headers.get('x-user') ?? '')
        return Promise.resolve(`/async/${url}`)
      },
    }
    const message = incoming('/p?q', ['Host', 'example.com', 'X-User', 'ann'])
    await translate(message, { ...tunnel, port: 8080 }, asyncContext)
    expect(seen).toEqual(['http://example.com:8080/p?q', 'ann'])
    expect(message.url).toBe('/async/http://example.com:8080/p?q')
  })

  it('answers 500 when a resolver returns something that is not a path', () => {
    const message = incoming('http://example.com/', ['Host', 'example.com'])
    const bad: TranslateContext = { ...context, resolve: () => 'no-slash' }
    expect(translate(message, undefined, bad)).toMatchObject({ kind: 'error', status: 500 })
  })
})
