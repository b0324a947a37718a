import { once } from 'node:events'
import { Agent, request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

/**
 * An app that names Connection twice, in two letter cases, as archived headers can: the second
 * one asks to close and names a header meant for this connection alone.
 */
function twoConnections(): Response {
  return new Response('archived', {
    headers: { Connection: 'keep-alive', connection: 'close, X-Private', 'X-Private': 'secret' },
  })
}

let running: RunningProxy | undefined

beforeEach(async () => {
  running = await startProxy(twoConnections)
})
afterEach(async () => {
  await running?.close()
  running = undefined
})

it('reads every Connection header the app sends: what it names is dropped, close is kept', async () => {
  const agent = new Agent({ keepAlive: true })
  try {
    const req = httpRequest({
      host: '127.0.0.1',
      port: running?.port,
      path: 'http://archived.example/',
      headers: { host: 'archived.example' },
      agent,
    })
    req.end()
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    let body = ''
    for await (const chunk of res) {
      body += String(chunk)
    }
    expect(body).toBe('archived')
    expect(res.headers['x-private']).toBeUndefined()
    expect(res.headers.connection).toBe('close')
  } finally {
    agent.destroy()
  }
})
