/**
 * `node`: bare node:http and node:https handlers writing the body, with no Fetch objects, and a
 * bare `ws` echo: what the Fetch layer itself costs, the floor under every system.
 */
import { WebSocketServer } from 'ws'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createSecureServer } from 'node:https'
import { listenOrigin } from './origin'
import { HELLO, start } from './protocol'

// The same headers the Hono app sends, so only the machinery differs.
const HEADERS = { 'content-type': 'text/plain;charset=UTF-8', 'content-length': '12' }

function hello(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, HEADERS)
  response.end(HELLO)
}

start(() =>
  listenOrigin((cert) => {
    const secure = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, hello)
    new WebSocketServer({ server: secure }).on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary })
      })
    })
    return { plain: createServer(hello), secure }
  })
)
