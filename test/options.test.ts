import { OptionsError } from '../src/errors'
import { normalizeOptions } from '../src/options'
import { createProxy } from '../src/proxy'
import type { ErrorContext, ProxyOptions } from '../src/types'
import { echoApp } from './helpers/apps'

describe('normalizeOptions', () => {
  it('fills in the defaults', () => {
    const options = normalizeOptions()
    expect(options).toMatchObject({
      proxyHost: 'wsgiprox',
      downloadHost: 'wsgiprox',
      enableWebsockets: true,
      enableCertDownload: true,
      useWildcardCerts: true,
      keepaliveMax: 50,
      handshakeTimeoutMs: 10_000,
    })
    expect(options.resolver.resolve('http://example.com/', new Request('http://x/'))).toBe(
      '/http://example.com/'
    )
  })

  it('reports connection errors except a client that went away', () => {
    const seen: [string, ErrorContext][] = []
    const { onError } = normalizeOptions({
      onError: (error, context) => seen.push([error.message, context]),
    })
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })
    onError(withCode('reset', 'ECONNRESET'), { phase: 'tunnel' })
    onError(withCode('pipe', 'EPIPE'), { phase: 'tls' })
    onError(withCode('bad record', 'ERR_SSL_WRONG_VERSION_NUMBER'), {
      phase: 'tls',
      host: 'a.test',
    })
    onError(new Error('no code'), { phase: 'app' })
    expect(seen).toEqual([
      ['bad record', { phase: 'tls', host: 'a.test' }],
      ['no code', { phase: 'app' }],
    ])
  })
})

describe('option checks at createProxy', () => {
  it.each([
    [{ onError: 'x' }, /onError must be a function/],
    [{ prefix: 5 }, /prefix must be a path string/],
    [{ prefix: '/a/../b/' }, /must be a plain path/],
    [{ enableWebsockets: 'yes' }, /enableWebsockets must be true or false, got "yes"/],
    [{ enableCertDownload: 1 }, /enableCertDownload must be true or false/],
    [{ useWildcardCerts: null }, /useWildcardCerts must be true or false, got null/],
    [{ keepaliveMax: 1.5 }, /keepaliveMax must be an integer/],
    [{ keepaliveMax: -2 }, /keepaliveMax must be an integer/],
    [{ handshakeTimeoutMs: 0 }, /handshakeTimeoutMs must be a positive number/],
    [{ admissionTimeoutMs: '10' }, /admissionTimeoutMs must be a positive number/],
    [{ proxyHost: 'a/b' }, /proxyHost must be a host name/],
    [{ proxyHost: '' }, /proxyHost must be a host name/],
    [{ downloadHost: 'a b' }, /downloadHost must be a host name/],
    [{ proxyApps: [] }, /proxyApps must be an object/],
    [{ proxyApps: { 'a.test': 'app' } }, /proxyApps\["a\.test"\] must be null/],
    [{ proxyApps: { 'a/b': null } }, /proxyApps key "a\/b" must be a host name/],
    [{ resolver: {} }, /resolver must be a function or an object with a resolve/],
    [{ resolver: { resolve: () => '/', requireAuth: 'x' } }, /requireAuth must be a method/],
    [{ ca: null }, /ca must be CA options or a CertificateAuthority, got null/],
    [{ ca: { cacheSize: -1 } }, /ca\.cacheSize must be a whole number/],
    [{ ca: { name: '' } }, /ca\.name must be a non-empty string/],
    [{ ca: { fiel: './x.pem' } }, /unknown ca option "fiel"/],
    [{ websocket: {} }, /websocket\.server must be a ws WebSocketServer/],
    [{ socks: 'on' }, /socks must be true or false/],
    [{ pac: { hosts: ['a b'] } }, /pac must be true, false or \{ hosts/],
    [{ prefx: '/p/' }, /unknown option "prefx"/],
  ])('refuses %j with an OptionsError that names it', (options, message) => {
    const attempt = () => createProxy(echoApp(), options as unknown as ProxyOptions)
    expect(attempt).toThrow(OptionsError)
    expect(attempt).toThrow(message)
  })

  it('normalises host options to the one host validator', () => {
    const options = normalizeOptions({
      proxyHost: 'WSGIPROX.test',
      proxyApps: { 'App.Test.': null },
    })
    expect(options.proxyHost).toBe('wsgiprox.test')
    expect([...options.proxyApps.keys()]).toEqual(['app.test'])
  })
})
