/**
 * A small site as a crawler records it (records written with warcio, a request record after each
 * response): an https page on www.example.org reached by redirects from http://example.org/, its
 * stylesheet with a web font (from another host, by CORS) and a background image, a script fetching JSON with a cache-buster,
 * an img srcset, a cookie, a script captured as a 404, an iframe from another host, and a video
 * recorded in two ranges.
 */
import { readFileSync } from 'node:fs'
import type { RecordSpec } from './archives'
import { png } from './site'

/** A font file Debian ships (fonts-dejavu-core, which Chromium depends on). */
export const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'

const WWW = 'https://www.example.org'
const at = (second: number) => `2024-05-01T10:00:${String(second).padStart(2, '0')}Z`

/** The video's bytes (not a real video: the test counts its ranges, not its frames). */
export const CLIP = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7) % 256))
const HALF = CLIP.length / 2

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Example crawl</title>
<link rel="stylesheet" href="/css/site.css">
<script src="/js/missing.js"></script>
</head><body>
<h1 id="title">An archived site</h1>
<img id="logo" src="/img/logo-1x.png" srcset="/img/logo-1x.png 1x, /img/logo-2x.png 2x" alt="logo">
<p id="data">pending</p><p id="cookie"></p>
<iframe id="widget" src="https://widgets.example.net/embed.html"></iframe>
<video id="clip" src="/media/clip.webm" preload="auto" muted></video>
<script src="/js/app.js"></script>
</body></html>`

const CSS = `@font-face { font-family: Archived; src: url(https://static.example.net/fonts/archived.ttf) format('truetype'); }
body { background: url("../img/bg.png") repeat; }
h1 { font-family: Archived, serif; }`

const APP = `fetch('/api/data.json?_=' + Date.now())
  .then((r) => r.json())
  .then((d) => {
    document.getElementById('data').textContent = d.message
    document.getElementById('cookie').textContent = document.cookie
  })
  .catch((e) => { document.getElementById('data').textContent = 'failed: ' + e })`

const get = (spec: RecordSpec): RecordSpec => ({ method: 'GET', ...spec })

/** The crawl, in the order the crawler wrote it. */
export const CRAWL: RecordSpec[] = [
  get({
    url: 'http://example.org/',
    date: at(0),
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: 'https://example.org/', 'Content-Length': '0' },
  }),
  get({
    url: 'https://example.org/',
    date: at(1),
    statusline: 'HTTP/1.1 301 Moved Permanently',
    headers: { Location: `${WWW}/`, 'Content-Length': '0' },
  }),
  get({
    url: `${WWW}/`,
    date: at(2),
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: PAGE,
  }),
  get({
    url: `${WWW}/css/site.css`,
    date: at(3),
    headers: { 'Content-Type': 'text/css' },
    body: CSS,
  }),
  get({
    url: `${WWW}/js/missing.js`,
    date: at(3),
    statusline: 'HTTP/1.1 404 Not Found',
    headers: { 'Content-Type': 'text/html' },
    body: '<!doctype html><title>404</title>',
  }),
  get({
    url: `${WWW}/img/logo-1x.png`,
    date: at(3),
    headers: { 'Content-Type': 'image/png' },
    body: png(40, 20),
  }),
  get({
    url: `${WWW}/img/logo-2x.png`,
    date: at(3),
    headers: { 'Content-Type': 'image/png' },
    body: png(80, 40),
  }),
  get({
    url: 'https://widgets.example.net/embed.html',
    date: at(3),
    headers: { 'Content-Type': 'text/html' },
    body: '<!doctype html><title>Widget</title><p id="w">archived widget</p>',
  }),
  get({
    url: `${WWW}/js/app.js`,
    date: at(3),
    headers: { 'Content-Type': 'text/javascript' },
    body: APP,
  }),
  get({
    // A font from another host is fetched with CORS: its answer names the page's origin.
    url: 'https://static.example.net/fonts/archived.ttf',
    date: at(4),
    headers: { 'Content-Type': 'font/ttf', 'Access-Control-Allow-Origin': WWW },
    body: readFileSync(FONT_FILE),
  }),
  get({
    url: `${WWW}/img/bg.png`,
    date: at(4),
    headers: { 'Content-Type': 'image/png' },
    body: png(8, 8),
  }),
  get({
    url: `${WWW}/api/data.json?_=1714557604000`,
    date: at(4),
    headers: {
      'Content-Type': 'application/json',
      'Set-Cookie': 'visitor=archived; Path=/; Expires=Thu, 02 May 2024 10:00:04 GMT; Secure',
    },
    body: '{"message":"data from the crawl"}',
  }),
  ...[0, HALF].map((first) =>
    get({
      url: `${WWW}/media/clip.webm`,
      date: at(5),
      statusline: 'HTTP/1.1 206 Partial Content',
      headers: {
        'Content-Type': 'video/webm',
        'Content-Range': `bytes ${first}-${first + HALF - 1}/${CLIP.length}`,
      },
      body: CLIP.subarray(first, first + HALF),
    })
  ),
]

/** The crawl's pages, as pages.jsonl lists them. */
export const CRAWL_PAGES = [{ url: `${WWW}/`, ts: at(2), title: 'Example crawl' }]
