/**
 * Request bodies that mean the same get the same key, whether read from a client, from a WARC
 * request record, or from the `requestBody` field warcio's CDXJ indexer writes.
 */
import { Readable } from 'node:stream'
import { bodyKey } from '../../src/replay/body-key'
import type { CaptureEntry } from '../../src/replay/capture-index'
import { MethodClass } from '../../src/replay/capture-index'
import { readCdxj } from '../../src/replay/cdxj'
import { cdxj, warcBytes } from './helpers/archives'

const JSON_TYPE = 'application/json'
const FORM_TYPE = 'application/x-www-form-urlencoded'
const bytes = (text: string) => new TextEncoder().encode(text)
const key = (text: string, type: string | null) => bodyKey(bytes(text), type)

describe('the key of a request body', () => {
  it.each([
    ['JSON members in another order', '{"q":"a","n":1}', '{ "n": 1, "q": "a" }'],
    ['JSON sent as text/plain', '{"q":["a","b"]}', '{"q":["a","b"]}'],
    ['form parameters in another order', 'a=1&b=2', 'b=2&a=1'],
    ['a space written + or %20', 'q=a+b', 'q=a%20b'],
    ['an empty body and an empty object', '', '{}'],
  ])('is the same for %s', async (_name, a, b) => {
    const type = a.includes('=') ? FORM_TYPE : JSON_TYPE
    const other = b.includes('=') ? FORM_TYPE : 'text/plain;charset=UTF-8'
    expect(await key(a, type)).toEqual(await key(b, other))
  })

  it.each([
    ['JSON values', '{"q":"a"}', '{"q":"b"}', JSON_TYPE],
    ['form values', 'q=a', 'q=b', FORM_TYPE],
    ['other bytes', 'abc', 'abd', 'application/octet-stream'],
  ])('differs for different %s', async (_name, a, b, type) => {
    expect(await key(a, type)).not.toEqual(await key(b, type))
  })

  it('reads the fields of a multipart form, whatever its boundary', async () => {
    const form = new FormData()
    form.set('q', 'a')
    form.set('lang', 'en')
    const encode = async () => {
      const request = new Request('http://x/', { method: 'POST', body: form })
      const type = request.headers.get('content-type')
      return bodyKey(new Uint8Array(await request.arrayBuffer()), type)
    }
    expect(await encode()).toEqual(await encode())
    expect(await encode()).toEqual(await key('lang=en&q=a', FORM_TYPE))
  })

  it.each([
    ['a JSON body', '{"q":"a","tags":["x","y"],"n":{"deep":true}}', JSON_TYPE],
    ['a form', 'q=a+b&lang=en', FORM_TYPE],
    ['binary bytes', '\u0000\u0001binary', 'application/octet-stream'],
  ])("is the one warcio's CDXJ requestBody gives for %s", async (_name, body, type) => {
    const { index, entries } = await indexedPost(body, type)
    expect(index).toContain('"requestBody"')
    expect(entries).toHaveLength(1)
    expect(entries[0]?.body).toEqual(await key(body, type))
  })

  it('leaves to the request record a text body the CDXJ line does not give', async () => {
    // warcio's indexer reads a text/plain body as JSON, and writes none when it is not.
    const { entries } = await indexedPost('plain words', 'text/plain')
    expect(entries).toEqual([
      expect.objectContaining({ method: MethodClass.other, body: undefined }),
    ])
  })
})

/** The CDXJ warcio's indexer writes for a POST of `body`, and the entries read from it. */
async function indexedPost(body: string, type: string) {
  const url = 'https://p.example/api'
  const warc = await warcBytes([
    { url, method: 'POST', requestBody: body, requestType: type, body: 'answer' },
  ])
  const index = await cdxj(warc, 'data.warc')
  const entries: CaptureEntry[] = []
  await readCdxj(Readable.from([index]), 'index.cdxj', {
    builder: { add: (entry) => entries.push(entry) },
    sourceOf: () => 0,
    pages: undefined,
    warn: (line) => {
      throw new Error(line)
    },
  })
  return { index, entries }
}
