/**
 * WebSockets through the proxy: an `upgradeWebSocket` echo from @hono/node-server answers
 * ws:// and wss:// on any host, and direct connections too. createProxy wires the WebSocket
 * server itself; the `websocket` option only picks its settings (here permessage-deflate).
 *
 *   npx tsx examples/websockets.ts
 *   # Python's websocket-client (pip install websocket-client), trusting the CA made in ./ca:
 *   python3 -c "import websocket; ws = websocket.create_connection('wss://example.com/chat?room=1',
 *     http_proxy_host='127.0.0.1', http_proxy_port=8080, proxy_type='http',
 *     sslopt={'ca_certs': 'ca/wsgiprox-ca.pem'}); print(ws.recv()); ws.send('hi'); print(ws.recv())"
 *   # A browser using the proxy and trusting the CA, in the console of any page:
 *   #   ws = new WebSocket('wss://example.com/chat'); ws.onmessage = (e) => console.log(e.data)
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { WebSocketServer } from 'ws'
import { createProxy } from 'wsgiprox'
import type { AddressInfo } from 'node:net'

const app = new Hono()
app.get(
  '*',
  upgradeWebSocket((c) => {
    // Proxied sockets arrive as /echo/<full URL>, like any proxied request.
    const url = new URL(c.req.url)
    const via = c.req.header('x-wsgiprox-proxy-host') ?? 'a direct connection'
    return {
      onOpen(_event, ws) {
        ws.send(`connected to ${url.pathname}${url.search} via ${via}`)
      },
      onMessage(event, ws) {
        ws.send(typeof event.data === 'string' ? event.data : (event.data as ArrayBuffer))
      },
    }
  })
)
// What upgradeWebSocket passes on: plain GETs, such as a browser opening the URL.
app.get('*', (c) => c.text('Open a WebSocket to any ws:// or wss:// URL through the proxy.\n'))

const proxy = createProxy(app, {
  prefix: '/echo/',
  // Optional: without it the proxy makes a WebSocketServer({ noServer: true }) of its own.
  websocket: { server: new WebSocketServer({ noServer: true, perMessageDeflate: true }) },
})
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`listening on http://127.0.0.1:${address.port}`)
