/**
 * The archived site the replay tests load: an https page on one host whose stylesheet, images
 * and data come from a second host, a captured redirect, a page captured twice, a video-like
 * resource; and a second, smaller collection.
 */
import { deflateSync, crc32 } from 'node:zlib'
import type { RecordSpec } from './archives'

export const PAGE_HOST = 'site.example'
export const STATIC_HOST = 'static.example.net'

/** A PNG of `width` x `height` red pixels. */
export function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.of(0), Buffer.alloc(width * 3, Buffer.of(255, 0, 0))])
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** The bytes of the video-like resource: 64 KiB whose byte i is i mod 251. */
export const VIDEO = Buffer.from(Array.from({ length: 65536 }, (_, i) => i % 251))

const PAGE = `<!doctype html>
<html><head><title>Archived home</title>
<link rel="stylesheet" href="https://${STATIC_HOST}/style.css">
</head><body>
<h1 id="heading">Archived in 2020</h1>
<img id="logo" src="https://${STATIC_HOST}/logo.png">
<img id="photo" src="https://${STATIC_HOST}/photo.svg?v=2&_=1733000000999">
<p id="data">pending</p>
<script>
fetch('https://${STATIC_HOST}/data.json', { headers: { 'X-Requested-With': 'replay-test' } })
  .then((r) => r.json()).then((d) => { document.getElementById('data').textContent = d.message })
  .catch((e) => { document.getElementById('data').textContent = 'failed: ' + e })
</script>
</body></html>`

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="blue"/></svg>`

/** The main collection. */
export const SITE: RecordSpec[] = [
  {
    url: `https://${PAGE_HOST}/`,
    body: PAGE,
    method: 'GET',
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  },
  {
    url: `https://${PAGE_HOST}/`,
    date: '2023-05-01T12:00:00Z',
    body: PAGE.replace('Archived in 2020', 'Archived in 2023'),
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  },
  {
    url: `https://${STATIC_HOST}/style.css`,
    headers: { 'Content-Type': 'text/css' },
    body: '#heading { color: rgb(0, 128, 0); }',
  },
  {
    url: `https://${STATIC_HOST}/logo.png`,
    headers: { 'Content-Type': 'image/png' },
    body: png(16, 12),
  },
  {
    // Captured with its parameters in another order and another cache-busting value.
    url: `https://${STATIC_HOST}/photo.svg?_=1733000000000&v=2`,
    headers: { 'Content-Type': 'image/svg+xml' },
    body: SVG,
  },
  {
    url: `https://${STATIC_HOST}/data.json`,
    headers: {
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': `https://${PAGE_HOST}`,
    },
    body: JSON.stringify({ message: 'data from the archive' }),
  },
  {
    url: `https://${PAGE_HOST}/old`,
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: `https://${PAGE_HOST}/new`, 'Content-Type': 'text/html' },
    body: '',
  },
  {
    url: `https://${PAGE_HOST}/new`,
    headers: { 'Content-Type': 'text/html' },
    body: '<!doctype html><title>The new page</title><p>moved here</p>',
  },
  { url: `https://${PAGE_HOST}/video.mp4`, headers: { 'Content-Type': 'video/mp4' }, body: VIDEO },
]

/** The second collection: one page, on a host the first collection also has. */
export const OTHER: RecordSpec[] = [
  {
    url: `https://${PAGE_HOST}/`,
    headers: { 'Content-Type': 'text/html' },
    body: '<!doctype html><title>Other collection</title><p>from the other archive</p>',
  },
]
