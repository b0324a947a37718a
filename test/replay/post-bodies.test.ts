/**
 * A POST (or PUT...) gets the capture whose request had the same body: JSON and forms compared
 * by their values, whatever their order or spacing; a body over the limit, or one no capture
 * had, falls back to the closest capture of the URL and method, then of the URL. Through undici
 * and curl, over HTTPS with the proxy's CA; from a WARC, and from a WACZ's CDXJ index.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { BodyKey } from '../../src/replay/index'
import { bodyKey, MethodClass, methodBodyKey } from '../../src/replay/index'
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

const run = promisify(execFile)

const API = 'https://p.example/api'
const FORM = 'https://p.example/search'
const BIG = 'https://p.example/upload'
const NOTE = 'https://p.example/note'
const ITEM = 'https://p.example/items/1'
const TWO_MIB = 'x'.repeat(2 * 1024 * 1024)

const answer = (text: string) => ({ headers: { 'Content-Type': 'text/plain' }, body: text })

/** POST captures of a JSON API, a form and an upload, and a page captured by GET only. */
const RECORDS: RecordSpec[] = [
  {
    url: API,
    date: '2020-01-01T00:00:00Z',
    method: 'POST',
    requestType: 'application/json',
    requestBody: '{"q":"a","page":1}',
    ...answer('answer A'),
  },
  {
    url: API,
    date: '2021-01-01T00:00:00Z',
    method: 'POST',
    requestType: 'application/json',
    requestBody: '{"q":"b","page":1}',
    ...answer('answer B'),
  },
  {
    url: FORM,
    date: '2020-01-01T00:00:00Z',
    method: 'POST',
    requestFirst: true,
    requestBody: 'q=cats&lang=en',
    ...answer('cats found'),
  },
  {
    url: FORM,
    date: '2021-01-01T00:00:00Z',
    method: 'POST',
    requestBody: 'q=dogs&lang=en',
    ...answer('dogs found'),
  },
  {
    url: BIG,
    date: '2019-01-01T00:00:00Z',
    method: 'POST',
    requestBody: 'name=small',
    ...answer('small upload'),
  },
  {
    url: BIG,
    date: '2021-01-01T00:00:00Z',
    method: 'POST',
    requestType: 'application/octet-stream',
    requestBody: TWO_MIB,
    ...answer('big upload'),
  },
  {
    url: NOTE,
    date: '2020-01-01T00:00:00Z',
    method: 'POST',
    requestType: 'text/plain',
    requestBody: 'hello there',
    ...answer('note 1'),
  },
  {
    url: NOTE,
    date: '2021-01-01T00:00:00Z',
    method: 'POST',
    requestType: 'text/plain',
    requestBody: 'goodbye',
    ...answer('note 2'),
  },
  { url: 'https://p.example/page', ...answer('the page, captured by GET') },
  // A REST API: the same body POSTed (to create) and later PUT (to replace).
  ...(['POST', 'PUT'] as const).map((method, i) => ({
    url: ITEM,
    date: `202${i}-01-01T00:00:00Z`,
    method,
    requestType: 'application/json',
    requestBody: '{"title":"a"}',
    ...answer(`${method} answer`),
  })),
]

describe.each([['post.warc.gz'], ['post.wacz']])('POST bodies in %s', (file) => {
  let proxy: ReplayProxy
  beforeAll(async () => {
    proxy = await startReplayProxy({ [file]: RECORDS })
  })
  afterAll(async () => {
    await proxy.close()
  })

  const post = async (url: string, body: string, headers: Record<string, string> = {}) => {
    const response = await proxy.get(url, { method: 'POST', body, headers })
    return `${response.status} ${await response.text()}`
  }

  it('gives each JSON body the capture whose request had its values', async () => {
    const json = { 'Content-Type': 'application/json' }
    expect(await post(API, '{"q":"a","page":1}', json)).toBe('200 answer A')
    expect(await post(API, '{"q":"b","page":1}', json)).toBe('200 answer B')
    // Another member order and spacing, sent as text/plain as fetch() does by default.
    expect(await post(API, '{ "page": 1, "q": "a" }', { 'Content-Type': 'text/plain' })).toBe(
      '200 answer A'
    )
  })

  it('gives each form its capture whatever the order of its parameters (curl -d)', async () => {
    const curl = async (data: string) =>
      (
        await run('curl', [
          '-sS',
          '--cacert',
          proxy.caFile,
          '-x',
          proxy.running.url,
          '-d',
          data,
          FORM,
        ])
      ).stdout
    expect(await curl('lang=en&q=cats')).toBe('cats found')
    expect(await curl('q=dogs&lang=en')).toBe('dogs found')
  })

  it('falls back to the closest capture of the URL and method when no body matches', async () => {
    expect(await post(API, '{"q":"z"}')).toBe('200 answer B')
    const then = { 'Accept-Datetime': 'Wed, 01 Jan 2020 12:00:00 GMT' }
    expect(await post(API, '{"q":"z"}', then)).toBe('200 answer A')
    // A GET never gets a POST's answer; a POST to a page captured by GET only gets that page.
    expect((await proxy.get(API)).status).toBe(404)
    expect(await post('https://p.example/page', 'x=1')).toBe('200 the page, captured by GET')
    // A URL captured by no method at all is not in the archive, whatever the body.
    expect(await post('https://p.example/never', '{"q":"a","page":1}')).toMatch(
      /^404 .*is not archived in the collection/s
    )
  })

  it('keeps a PUT and a POST of the same URL and body apart, as pywb keys them', async () => {
    for (const method of ['POST', 'PUT']) {
      const response = await proxy.get(ITEM, { method, body: '{"title":"a"}' })
      expect(await response.text()).toBe(`${method} answer`)
    }
  })

  it('finds the PUT capture for a library given bodyKey through methodBodyKey', async () => {
    const [collection] = proxy.replay.collections
    const body = await bodyKey(new TextEncoder().encode('{"title":"a"}'), 'application/json')
    const when = (key: BodyKey) =>
      collection
        ?.lookup(ITEM, MethodClass.other, key)
        .map((c) => new Date(c.time * 1000).getUTCFullYear())
    expect(when(body)).toEqual([2020])
    expect(when(methodBodyKey(body, 'PUT'))).toEqual([2021])
  })

  it('matches small bodies beside captures over the limit, and larger bodies by URL', async () => {
    expect(
      await post(BIG, 'name=small', { 'Content-Type': 'application/x-www-form-urlencoded' })
    ).toBe('200 small upload')
    expect(await post(BIG, TWO_MIB)).toBe('200 big upload')
    const then = { 'Accept-Datetime': 'Tue, 01 Jan 2019 00:00:00 GMT' }
    expect(await post(BIG, TWO_MIB, then)).toBe('200 small upload')
    // The connection still serves the next request after a body read past the limit.
    expect(await post(API, '{"q":"a","page":1}')).toBe('200 answer A')
  })

  it('gives a text body the capture of the same bytes, read from the request record', async () => {
    expect(await post(NOTE, 'hello there')).toBe('200 note 1')
    expect(await post(NOTE, 'goodbye')).toBe('200 note 2')
    // A WACZ's index gives no text body: it was read without reindexing the WARC.
    expect(proxy.warnings).toEqual([])
  })
})
