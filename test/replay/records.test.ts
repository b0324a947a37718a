/**
 * What a client receives for the awkward things archives hold: stored chunked payloads,
 * Content-Encoding headers that no longer match the stored body, hop-by-hop headers, statuses
 * Fetch cannot send, revisit records, captures of other methods, and cookies set to expire (long
 * past at replay). Read with Node's http client through the proxy, which decodes nothing, so the
 * bytes on the wire are what is checked.
 */
import { brotliCompressSync, deflateRawSync, gzipSync } from 'node:zlib'
import { proxyGet } from '../helpers/clients'
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

const TEXT = 'archived text '.repeat(50)

const RECORDS: RecordSpec[] = [
  {
    url: 'http://example.com/chunked',
    headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' },
    body: '7\r\narchive\r\n6\r\nd body\r\n0\r\n\r\n',
  },
  {
    url: 'http://example.com/gzipped',
    headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' },
    body: gzipSync(TEXT),
  },
  {
    // The crawler stored the decoded body and kept the header.
    url: 'http://example.com/decoded',
    headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': '3' },
    body: TEXT,
  },
  {
    url: 'http://example.com/brotli',
    headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'br' },
    body: brotliCompressSync(TEXT),
  },
  {
    // The same mistake with brotli, which has no magic number to tell.
    url: 'http://example.com/decoded-br',
    headers: { 'Content-Type': 'text/html', 'Content-Encoding': 'br' },
    body: '<!doctype html><title>decoded</title>',
  },
  {
    // Deflate without its zlib wrapper, as some servers sent it; browsers accept it.
    url: 'http://example.com/raw-deflate',
    headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'deflate' },
    body: deflateRawSync(TEXT),
  },
  {
    url: 'http://example.com/short-br',
    headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'br' },
    body: 'hello',
  },
  {
    url: 'http://example.com/hop',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', 'gone'],
      ['Keep-Alive', 'timeout=5'],
      ['Upgrade', 'h2c'],
      ['Trailer', 'X-Checksum'],
      ['Proxy-Connection', 'keep-alive'],
      ['X-Kept', 'here'],
      ['Set-Cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2; Path=/'],
    ],
    body: 'hop',
  },
  {
    // Header names that are also names on every JavaScript object.
    url: 'http://example.com/names',
    headers: [
      ['Content-Type', 'text/plain'],
      ['__proto__', 'odd'],
      ['Constructor', 'kept'],
      ['toString', 'kept too'],
    ],
    body: 'names',
  },
  { url: 'http://example.com/untyped', headers: { 'X-Kept': 'here' }, body: '<p>html</p>' },
  { url: 'http://example.com/denied', statusline: 'HTTP/1.1 999 Request denied', body: 'no bots' },
  { url: 'http://example.com/empty', statusline: 'HTTP/1.1 204 No Content', body: 'stray' },
  {
    // A server sends UTF-8 bytes in a header; warcio writes them as they are.
    url: 'http://example.com/utf8',
    statusline: 'HTTP/1.1 302 Found',
    headers: [
      ['Location', '/café'],
      ['Content-Disposition', 'attachment; filename="Übersicht — 日本.pdf"'],
    ],
  },
  {
    url: 'http://example.com/denied-utf8',
    statusline: 'HTTP/1.1 999 Zugriff verweigert — kein Bot',
    body: 'no bots',
  },
  {
    url: 'http://example.com/original',
    date: '2020-01-01T00:00:00Z',
    headers: { 'Content-Type': 'text/plain', ETag: '"v1"' },
    body: 'the payload',
    warcHeaders: { 'WARC-Payload-Digest': 'sha1:PAYLOAD' },
  },
  {
    url: 'http://example.com/original',
    date: '2021-01-01T00:00:00Z',
    type: 'revisit',
    headers: { 'Content-Type': 'text/plain', ETag: '"v1"', 'X-Revisit': 'yes' },
    warcHeaders: {
      'WARC-Payload-Digest': 'sha1:PAYLOAD',
      'WARC-Refers-To-Target-URI': 'http://example.com/original',
      'WARC-Refers-To-Date': '2020-01-01T00:00:00Z',
    },
  },
  {
    url: 'http://example.com/form',
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: 'answer to a POST',
  },
  { url: 'http://example.com/page?b=2&a=1', headers: { 'Content-Type': 'text/plain' }, body: 'q' },
  { url: 'https://www.example.com/www', headers: { 'Content-Type': 'text/plain' }, body: 'w' },
  { url: 'http://example.com/~user/', headers: { 'Content-Type': 'text/plain' }, body: 'tilde' },
  {
    url: 'http://example.com/api?_=1733000000000&id=7',
    headers: { 'Content-Type': 'application/json' },
    body: '{"id":7}',
  },
  {
    url: 'https://example.com/login',
    date: '2024-01-01T00:00:00Z',
    headers: [
      ['Content-Type', 'text/html'],
      [
        'Set-Cookie',
        'sid=abc; Path=/; Expires=Tue, 02 Jan 2024 00:00:00 GMT; Secure; SameSite=Lax',
      ],
      ['Set-Cookie', 'pref=dark; Max-Age=3600; Path=/'],
      ['Set-Cookie', 'both=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
    ],
    body: 'logged in',
  },
  {
    url: 'https://example.com/logout',
    date: '2024-01-01T00:00:00Z',
    headers: [
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
      ['Set-Cookie', 'pref=; Max-Age=0; Path=/'],
    ],
    body: 'logged out',
  },
]

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy({ 'records.warc': RECORDS })
})
afterAll(async () => {
  await proxy.close()
})

const get = (url: string, headers: Record<string, string> = {}) =>
  proxyGet(proxy.running.port, url, { headers })

describe('replayed records', () => {
  it('dechunks a payload stored chunked and sends no archived Transfer-Encoding', async () => {
    const reply = await get('http://example.com/chunked')
    expect(reply.body).toBe('archived body')
    expect(reply.status).toBe(200)
  })

  it('keeps Content-Encoding for a body still encoded when the client accepts it', async () => {
    const reply = await proxyGet(proxy.running.port, 'http://example.com/gzipped', {
      headers: { 'Accept-Encoding': 'gzip, br' },
    })
    expect(reply.headers['content-encoding']).toBe('gzip')
    expect(Number(reply.headers['content-length'])).toBe(gzipSync(TEXT).length)
  })

  it('decodes a still-encoded body for a client that does not accept the coding', async () => {
    const reply = await get('http://example.com/gzipped')
    expect(reply.headers['content-encoding']).toBeUndefined()
    expect(reply.body).toBe(TEXT)
  })

  it('drops a Content-Encoding the stored body no longer has, and its stale length', async () => {
    const reply = await get('http://example.com/decoded', { 'Accept-Encoding': 'gzip' })
    expect(reply.headers['content-encoding']).toBeUndefined()
    expect(reply.headers['content-length']).toBe(String(TEXT.length))
    expect(reply.body).toBe(TEXT)
  })

  it('tells a brotli body from a decoded one that kept Content-Encoding: br', async () => {
    const chromium = { 'Accept-Encoding': 'gzip, deflate, br, zstd' }
    const brotli = await get('http://example.com/brotli', chromium)
    expect(brotli.headers['content-encoding']).toBe('br')
    expect(Number(brotli.headers['content-length'])).toBe(brotliCompressSync(TEXT).length)
    expect((await get('http://example.com/brotli')).body).toBe(TEXT)
    for (const headers of [chromium, {}]) {
      const reply = await get('http://example.com/decoded-br', headers)
      expect(reply.headers['content-encoding']).toBeUndefined()
      expect(reply.body).toBe('<!doctype html><title>decoded</title>')
    }
  })

  it('sends raw deflate as deflate, and decodes it for a client that does not accept it', async () => {
    const raw = await get('http://example.com/raw-deflate', { 'Accept-Encoding': 'gzip, deflate' })
    expect(raw.headers['content-encoding']).toBe('deflate')
    expect(Number(raw.headers['content-length'])).toBe(deflateRawSync(TEXT).length)
    const plain = await get('http://example.com/raw-deflate')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body).toBe(TEXT)
  })

  it('tells a short decoded body from brotli by decoding all of it', async () => {
    const reply = await get('http://example.com/short-br', { 'Accept-Encoding': 'br' })
    expect(reply.headers['content-encoding']).toBeUndefined()
    expect(reply.body).toBe('hello')
  })

  it('drops hop-by-hop headers and those named in Connection, and keeps the rest', async () => {
    const reply = await get('http://example.com/hop')
    for (const name of ['x-hop', 'keep-alive', 'upgrade', 'trailer', 'proxy-connection']) {
      expect(reply.headers[name]).toBeUndefined()
    }
    expect(reply.headers['x-kept']).toBe('here')
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/'])
  })

  it('answers a capture asked for again (from the answer cache) as it did the first time', async () => {
    for (const url of [
      'http://example.com/hop',
      'http://example.com/gzipped',
      'http://example.com/names',
    ]) {
      const first = await get(url)
      const again = await get(url)
      const { date: _firstDate, ...firstHeaders } = first.headers
      const { date: _againDate, ...againHeaders } = again.headers
      expect(again.status, url).toBe(first.status)
      expect(againHeaders, url).toEqual(firstHeaders)
      expect(again.body, url).toBe(first.body)
    }
    for (let round = 0; round < 2; round++) {
      const names = await get('http://example.com/names')
      expect(names.status).toBe(200)
      expect(names.body).toBe('names')
      expect(names.headers.constructor).toBe('kept')
      expect(names.headers.tostring).toBe('kept too')
    }
    const hop = await get('http://example.com/hop')
    expect(hop.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/'])
    expect(hop.headers['memento-datetime']).toMatch(/GMT$/)
  })

  it('sends a cookie alive when captured without its Expires or Max-Age', async () => {
    // Its Expires is long past at replay: the browser would drop the cookie at once.
    expect((await get('http://example.com/login')).headers['set-cookie']).toEqual([
      'sid=abc; Path=/; Secure; SameSite=Lax',
      'pref=dark; Path=/',
      'both=1',
    ])
  })

  it('sends a cookie the site deleted as captured', async () => {
    expect((await get('http://example.com/logout')).headers['set-cookie']).toEqual([
      'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'pref=; Max-Age=0; Path=/',
    ])
  })

  it('adds no Content-Type of its own to a capture that had none', async () => {
    for (let round = 0; round < 2; round++) {
      const reply = await get('http://example.com/untyped')
      expect(reply.body).toBe('<p>html</p>')
      expect(reply.headers['content-type'] ?? '').toBe('')
    }
  })

  it('sends a status Fetch cannot send (999) as 502 and names the captured one', async () => {
    const reply = await get('http://example.com/denied')
    expect(reply.status).toBe(502)
    expect(reply.headers['x-archive-status']).toBe('HTTP/1.1 999 Request denied')
    expect(reply.body).toBe('no bots')
  })

  it('sends header values with the UTF-8 bytes they were captured with', async () => {
    const reply = await get('http://example.com/utf8')
    const bytes = (name: string) => Buffer.from(String(reply.headers[name]), 'latin1').toString()
    expect(reply.status).toBe(302)
    expect(bytes('location')).toBe('/café')
    expect(bytes('content-disposition')).toBe('attachment; filename="Übersicht — 日本.pdf"')
    const denied = await get('http://example.com/denied-utf8')
    expect(denied.status).toBe(502)
    expect(denied.body).toBe('no bots')
    expect(Buffer.from(String(denied.headers['x-archive-status']), 'latin1').toString()).toBe(
      'HTTP/1.1 999 Zugriff verweigert — kein Bot'
    )
  })

  it('sends a captured 204 without a body', async () => {
    const reply = await get('http://example.com/empty')
    expect(reply.status).toBe(204)
    expect(reply.body).toBe('')
  })

  it('resolves a revisit to the payload it refers to, with its own headers and time', async () => {
    const reply = await get('http://example.com/original')
    expect(reply.body).toBe('the payload')
    expect(reply.headers['x-revisit']).toBe('yes')
    expect(reply.headers['memento-datetime']).toBe('Fri, 01 Jan 2021 00:00:00 GMT')
  })

  it('keeps a capture of a POST for POST requests only', async () => {
    expect((await get('http://example.com/form')).status).toBe(404)
    const post = await proxyGet(proxy.running.port, 'http://example.com/form', {
      method: 'POST',
      body: 'x=1',
    })
    expect(post.body).toBe('answer to a POST')
  })

  it.each([
    ['another scheme and the default port', 'https://example.com:443/page?a=1&b=2', 'q'],
    ['query parameters in another order', 'http://example.com/page?a=1&b=2', 'q'],
    ['an empty query and no www.', 'http://example.com/www?', 'w'],
    ['a percent-encoded tilde', 'http://example.com/%7Euser/', 'tilde'],
    ['another cache-busting value', 'http://example.com/api?id=7&_=1799999999999', '{"id":7}'],
  ])('finds a capture under %s', async (_name, url, body) => {
    const reply = await get(url.replace('https://', 'http://').replace(':443', ''))
    expect(reply.body).toBe(body)
    expect((await proxy.get(url)).status).toBe(200)
  })
})
