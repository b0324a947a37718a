/**
 * A page that loads JSONP as jQuery does, with a callback name and a cache-buster made up on each
 * load, and the captures it and the JSONP tests ask for.
 */
import { gzipSync } from 'node:zlib'
import type { RecordSpec } from './archives'

const CAPTURED_CALLBACK = 'jQuery1124038_1599000000001'
export const DATA = '{"message":"from the archived API"}'

const PAGE = `<!doctype html><title>JSONP</title><p id="data">pending</p><script>
const name = 'jQuery' + String(Math.random()).slice(2, 12) + '_' + Date.now()
window[name] = (d) => { document.getElementById('data').textContent = d.message }
const script = document.createElement('script')
script.src = 'https://api.jsonp.example/feed?callback=' + name + '&_=' + Date.now()
script.onerror = () => { document.getElementById('data').textContent = 'failed' }
document.head.append(script)
</script>`

export const JSONP_ARCHIVE: RecordSpec[] = [
  { url: 'https://jsonp.example/', body: PAGE },
  {
    url: `https://api.jsonp.example/feed?callback=${CAPTURED_CALLBACK}&_=1599000000002`,
    headers: { 'Content-Type': 'application/javascript', 'Content-Encoding': 'gzip' },
    // As servers often write it: a comment first (against content sniffing), and stored gzipped.
    body: gzipSync(`/**/ ${CAPTURED_CALLBACK}(${DATA});`),
  },
  {
    url: 'https://api.jsonp.example/plain.js?callback=x',
    headers: { 'Content-Type': 'application/javascript' },
    body: 'jQuery(function () { return 1 })',
  },
  {
    url: 'https://static.jsonp.example/chart.js?t=0.5123876543',
    headers: { 'Content-Type': 'application/javascript' },
    body: 'chart()',
  },
  {
    url: 'https://static.jsonp.example/stats?v=2&__rnd=1',
    headers: { 'Content-Type': 'text/plain' },
    body: 'stats',
  },
]
