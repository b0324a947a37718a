/**
 * `http-mitm-proxy`: answers every request itself in `onRequest` (never calling the callback
 * that would forward it upstream). It makes its own CA and per-host certificates in a
 * temporary folder, removed on exit.
 */
import { Proxy } from 'http-mitm-proxy'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HELLO, start } from '../servers/protocol'

const HEADERS = { 'content-type': 'text/plain;charset=UTF-8', 'content-length': '12' }

start(async () => {
  const sslCaDir = await mkdtemp(join(tmpdir(), 'wsgiprox-bench-mitm-'))
  process.on('exit', () => {
    rmSync(sslCaDir, { recursive: true, force: true })
  })
  const proxy = new Proxy()
  proxy.onError(() => {})
  proxy.onRequest((ctx) => {
    ctx.proxyToClientResponse.writeHead(200, HEADERS)
    ctx.proxyToClientResponse.end(HELLO)
  })
  await new Promise<void>((resolve, reject) => {
    proxy.listen({ port: 0, host: '127.0.0.1', sslCaDir }, (error?: Error | null) => {
      if (error) {
        reject(error)
      } else {
        resolve()
      }
    })
  })
  const caPath = join(sslCaDir, 'certs', 'ca.pem')
  return {
    proxy: true,
    port: proxy.httpPort,
    caPem: await readFile(caPath, 'utf8'),
    caPath,
    // Its WebSocket support relays to the real upstream server; it cannot answer one itself.
    websocket: 'n/a: http-mitm-proxy only relays WebSockets upstream',
  }
})
