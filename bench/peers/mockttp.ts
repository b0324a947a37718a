/**
 * `mockttp`: httptoolkit's MITM proxy answering every request from one rule, configured for
 * speed as its docs advise (no traffic recording, explicit content-length), with its own CA.
 */
import { generateCACertificate, getLocal } from 'mockttp'
import { HELLO, start } from '../servers/protocol'

start(async () => {
  const ca = await generateCACertificate()
  const server = getLocal({ https: { key: ca.key, cert: ca.cert }, recordTraffic: false })
  // mockttp listens on every interface (it has no host option); the client uses loopback only.
  await server.start(0)
  await server.forAnyRequest().thenReply(200, HELLO, {
    'content-type': 'text/plain;charset=UTF-8',
    'content-length': '12',
  })
  await server.forAnyWebSocket().thenEcho()
  return { proxy: true, port: server.port, caPem: ca.cert, websocket: true }
})
