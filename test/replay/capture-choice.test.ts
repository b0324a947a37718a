/**
 * Which capture answers when the closest one cannot serve the client: a captured redirect that
 * leads back to the URL asked for (the crawler's `http://` to `https://`, or to `www.`), and a
 * revisit whose original is not in the archive; and which method a capture answered, when the
 * crawler wrote each request before its response.
 */
import { proxyGet } from '../helpers/clients'
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

const page = (title: string) => `<!doctype html><title>${title}</title>`

const RECORDS: RecordSpec[] = [
  { url: 'https://scheme.example/', date: '2020-01-01T00:00:00Z', body: page('https page') },
  {
    // Captured after the page: the crawler met the http:// link later.
    url: 'http://scheme.example/',
    date: '2020-01-02T00:00:00Z',
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: 'https://scheme.example/' },
  },
  { url: 'https://www.host.example/', date: '2020-01-01T00:00:00Z', body: page('www page') },
  {
    url: 'https://host.example/',
    date: '2020-01-03T00:00:00Z',
    statusline: 'HTTP/1.1 302 Found',
    headers: { Location: '//www.host.example/' },
  },
  {
    url: 'https://only.example/',
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: 'http://only.example/' },
  },
  { url: 'https://lost.example/', date: '2019-01-01T00:00:00Z', body: page('older capture') },
  {
    // Deduplicated against a crawl that is not in this archive.
    url: 'https://lost.example/',
    date: '2021-01-01T00:00:00Z',
    type: 'revisit',
    headers: { 'Content-Type': 'text/html' },
    warcHeaders: {
      'WARC-Payload-Digest': 'sha1:ELSEWHERE',
      'WARC-Refers-To-Target-URI': 'https://lost.example/',
      'WARC-Refers-To-Date': '2020-06-01T00:00:00Z',
    },
  },
  {
    url: 'https://form.example/',
    method: 'GET',
    requestFirst: true,
    headers: { 'Content-Type': 'text/plain' },
    body: 'the form',
  },
  {
    url: 'https://form.example/',
    date: '2020-01-01T00:00:05Z',
    method: 'POST',
    requestFirst: true,
    headers: { 'Content-Type': 'text/plain' },
    body: 'the answer to the form',
  },
  {
    url: 'https://lost.example/only',
    type: 'revisit',
    headers: { 'Content-Type': 'text/html' },
    warcHeaders: { 'WARC-Payload-Digest': 'sha1:ELSEWHERE' },
  },
]

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy({ 'choice.warc.gz': RECORDS })
})
afterAll(async () => {
  await proxy.close()
})

describe('choosing a capture', () => {
  it.each([
    ['https://scheme.example/', 'https page'],
    ['http://scheme.example/', 'https page'],
    ['https://host.example/', 'www page'],
    ['https://www.host.example/', 'www page'],
  ])('passes over a captured redirect back to %s for the page it leads to', async (url, title) => {
    // undici follows redirects, as a browser does, and gives up after 20.
    const response = await proxy.get(url)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(page(title))
  })

  it('sends the captured http:// to https:// redirect to a client asking for http://', async () => {
    // The page then opens as the https:// origin it was captured at, not as http://.
    const reply = await proxyGet(proxy.running.port, 'http://scheme.example/')
    expect(reply.status).toBe(301)
    expect(reply.headers.location).toBe('https://scheme.example/')
  })

  it.each([
    ['https://host.example/', '//www.host.example/'],
    ['https://www.host.example/', undefined],
  ])(
    'sends the captured redirect to www. to a client asking for the bare host (%s)',
    async (url, location) => {
      // The page then opens at the origin it was captured at, the one its CORS answers name.
      const reply = await proxyGet(proxy.running.port, url)
      expect(reply.headers.location).toBe(location)
      expect(reply.status).toBe(location ? 302 : 200)
    }
  )

  it('answers 404 when the only capture of a URL redirects to itself, as pywb does', async () => {
    // Sent as captured, it would bring the client back here until it gives up.
    const reply = await proxyGet(proxy.running.port, 'http://only.example/')
    expect(reply.status).toBe(404)
    expect(reply.headers.location).toBeUndefined()
    expect(reply.body).toContain('http://only.example/')
  })

  it('passes over a revisit whose original is not in the archive for an older capture', async () => {
    const reply = await proxyGet(proxy.running.port, 'http://lost.example/')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe(page('older capture'))
    expect(reply.headers['memento-datetime']).toBe('Tue, 01 Jan 2019 00:00:00 GMT')
  })

  it('answers 502 naming the missing original when a revisit is the only capture', async () => {
    const reply = await proxyGet(proxy.running.port, 'http://lost.example/only')
    expect(reply.status).toBe(502)
    expect(reply.body).toMatch(/refers to a capture not in the archive/)
  })

  it('keeps a GET and a POST apart when each request was written before its response', async () => {
    expect((await proxyGet(proxy.running.port, 'http://form.example/')).body).toBe('the form')
    const post = await proxyGet(proxy.running.port, 'http://form.example/', {
      method: 'POST',
      body: 'a=1',
    })
    expect(post.body).toBe('the answer to the form')
  })
})
