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
})
