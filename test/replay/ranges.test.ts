/**
 * Range requests against media captured as `206 Partial Content`, which is how a crawler that
 * drives a browser stores audio and video: the browser's own `Range: bytes=0-` was recorded.
 */
import { proxyGet } from '../helpers/clients'
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

/** 10,000 bytes that tell where they are: 0123456789 over and over, with a mark every 1,000. */
const MEDIA = Array.from(
  { length: 10 },
  (_, k) => `[${k}]` + '0123456789'.repeat(100).slice(3)
).join('')

const RECORDS: RecordSpec[] = [
  {
    url: 'https://media.example/whole.mp4',
    statusline: 'HTTP/1.1 206 Partial Content',
    headers: { 'Content-Type': 'video/mp4', 'Content-Range': `bytes 0-9999/10000` },
    body: MEDIA,
  },
  {
    url: 'https://media.example/start.mp4',
    statusline: 'HTTP/1.1 206 Partial Content',
    headers: { 'Content-Type': 'video/mp4', 'Content-Range': 'bytes 0-999/10000' },
    body: MEDIA.slice(0, 1000),
  },
  // The parts a crawler driving a browser recorded as the player asked for them, in three 206s.
  ...[
    [0, 3999],
    [4000, 7999],
    [8000, 9999],
  ].map(([first = 0, last = 0], i) => ({
    url: 'https://media.example/parts.mp4',
    date: `2020-01-01T00:00:0${i}Z`,
    statusline: 'HTTP/1.1 206 Partial Content',
    headers: { 'Content-Type': 'video/mp4', 'Content-Range': `bytes ${first}-${last}/10000` },
    body: MEDIA.slice(first, last + 1),
  })),
  {
    url: 'https://media.example/both.mp4',
    date: '2020-01-01T00:00:00Z',
    headers: { 'Content-Type': 'video/mp4' },
    body: MEDIA,
  },
  {
    url: 'https://media.example/both.mp4',
    date: '2021-01-01T00:00:00Z',
    statusline: 'HTTP/1.1 206 Partial Content',
    headers: { 'Content-Type': 'video/mp4', 'Content-Range': 'bytes 0-999/10000' },
    body: MEDIA.slice(0, 1000),
  },
]

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy({ 'media.warc': RECORDS })
})
afterAll(async () => {
  await proxy.close()
})

const get = (url: string, range?: string) =>
  proxyGet(proxy.running.port, url, { headers: range ? { Range: range } : {} })

describe('ranges of media captured as 206', () => {
  it('answers any range of a 206 capture that holds the whole body', async () => {
    const first = await get('http://media.example/whole.mp4', 'bytes=0-')
    expect(first.status).toBe(206)
    expect(first.headers['content-range']).toBe('bytes 0-9999/10000')
    const seek = await get('http://media.example/whole.mp4', 'bytes=4000-4999')
    expect(seek.status).toBe(206)
    expect(seek.headers['content-range']).toBe('bytes 4000-4999/10000')
    expect(seek.body).toBe(MEDIA.slice(4000, 5000))
    const whole = await get('http://media.example/whole.mp4')
    expect(whole.status).toBe(200)
    expect(whole.body).toBe(MEDIA)
  })

  it('keeps the captured Content-Range of a 206 capture that holds part of the body', async () => {
    const reply = await get('http://media.example/start.mp4', 'bytes=0-')
    expect(reply.status).toBe(206)
    expect(reply.headers['content-range']).toBe('bytes 0-999/10000')
    expect(reply.body).toBe(MEDIA.slice(0, 1000))
  })

  it('answers each range from the 206 capture that holds where it starts', async () => {
    for (const [range, contentRange] of [
      ['bytes=0-', 'bytes 0-3999/10000'],
      ['bytes=4000-', 'bytes 4000-7999/10000'],
      ['bytes=5000-5999', 'bytes 5000-5999/10000'],
      ['bytes=7990-8009', 'bytes 7990-7999/10000'],
      ['bytes=-500', 'bytes 9500-9999/10000'],
    ] as const) {
      const reply = await get('http://media.example/parts.mp4', range)
      const [, first = '', last = ''] = /(\d+)-(\d+)/.exec(contentRange) ?? []
      expect(`${reply.status} ${reply.headers['content-range']}`, range).toBe(`206 ${contentRange}`)
      expect(reply.body, range).toBe(MEDIA.slice(Number(first), Number(last) + 1))
    }
  })

  it('answers 416 to a range no captured part holds', async () => {
    const reply = await get('http://media.example/start.mp4', 'bytes=5000-')
    expect(reply.status).toBe(416)
    expect(reply.headers['content-range']).toBe('bytes */10000')
  })

  it('answers a request for no range with the whole body when a capture has it', async () => {
    const reply = await get('http://media.example/both.mp4')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe(MEDIA)
    const seek = await get('http://media.example/both.mp4', 'bytes=6000-6099')
    expect(seek.headers['content-range']).toBe('bytes 6000-6099/10000')
    expect(seek.body).toBe(MEDIA.slice(6000, 6100))
  })
})
