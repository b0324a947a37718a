/**
 * What a pywb user sees of the choice of capture: the Memento headers of a proxy-mode memento
 * (RFC 7089's URI-R that is its own TimeGate), a captured redirect that only adds or drops a
 * trailing slash, and the captured Vary and Set-Cookie headers.
 */
import { proxyGet } from '../helpers/clients'
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

const page = (title: string) => `<!doctype html><title>${title}</title>`

const RECORDS: RecordSpec[] = [
  {
    url: 'https://slash.example/docs/',
    date: '2020-01-01T00:00:00Z',
    headers: { 'Content-Type': 'text/html' },
    body: page('docs'),
  },
  {
    // The site later moved the page to /docs, and redirected /docs/ there...
    url: 'https://slash.example/docs/',
    date: '2021-01-01T00:00:00Z',
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: '/docs' },
  },
  {
    // ...but the crawler met /docs only when it redirected back to /docs/.
    url: 'https://slash.example/docs',
    date: '2020-01-02T00:00:00Z',
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: 'https://slash.example/docs/' },
  },
  {
    url: 'https://vary.example/',
    date: '2020-03-01T12:00:00Z',
    headers: [
      ['Content-Type', 'text/html'],
      ['Vary', 'Accept-Encoding, User-Agent'],
      ['Set-Cookie', 'sid=1; Domain=.vary.example; Path=/app; Secure; HttpOnly'],
      ['Set-Cookie', 'theme=dark; Path=/'],
    ],
    body: page('vary'),
  },
]

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy({ 'memento.warc.gz': RECORDS })
})
afterAll(async () => {
  await proxy.close()
})

describe('a proxy-mode memento', () => {
  it.each([[{}], [{ 'Accept-Datetime': 'Sun, 01 Mar 2020 00:00:00 GMT' }]])(
    'names the URL as its own original and TimeGate, and varies on Accept-Datetime (%j)',
    async (headers) => {
      const reply = await proxyGet(proxy.running.port, 'http://vary.example/', { headers })
      expect(reply.status).toBe(200)
      expect(reply.headers['memento-datetime']).toBe('Sun, 01 Mar 2020 12:00:00 GMT')
      expect(reply.headers.link).toBe('<https://vary.example/>; rel="original timegate"')
      // The captured Vary stays, so a cache keyed on it still is; accept-datetime is added.
      expect(reply.headers.vary).toBe('Accept-Encoding, User-Agent, accept-datetime')
    }
  )

  it('sends captured cookies as captured, Domain and Path included', async () => {
    const reply = await proxyGet(proxy.running.port, 'http://vary.example/')
    expect(reply.headers['set-cookie']).toEqual([
      'sid=1; Domain=.vary.example; Path=/app; Secure; HttpOnly',
      'theme=dark; Path=/',
    ])
  })
})

describe('a captured redirect that adds or drops a trailing slash', () => {
  it('passes over it for the page, as a browser following it would loop', async () => {
    // undici follows redirects, as a browser does, and gives up after 20.
    const response = await proxy.get('https://slash.example/docs/')
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(page('docs'))
    expect(response.headers.get('memento-datetime')).toBe('Wed, 01 Jan 2020 00:00:00 GMT')
  })

  it('still sends the redirect of a URL that has nothing else', async () => {
    // /docs was only ever a redirect: the client follows it to the page /docs/ holds.
    const reply = await proxyGet(proxy.running.port, 'http://slash.example/docs')
    expect(reply.status).toBe(301)
    expect(reply.headers.location).toBe('https://slash.example/docs/')
  })
})
