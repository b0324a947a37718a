import { normalizeOptions } from '../src/options'
import type { ErrorContext } from '../src/types'

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
