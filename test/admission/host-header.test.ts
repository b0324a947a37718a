/**
 * RFC 9112 §3.2 on the wire: one Host line at most, and one in every HTTP/1.1 request. Each
 * refusal is the proxy's own, with its reason, wherever the request comes (absolute form, inside
 * a tunnel, origin form). HTTP/1.0 may send none.
 */
import { echoApp } from '../helpers/apps'
import { rawExchange } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let running: RunningProxy
beforeAll(async () => {
  running = await startProxy(echoApp(), { prefix: '/' })
})
afterAll(async () => {
  await running.close()
})

const REPEATED = 'More than one Host header: a request names one host (RFC 9112 §3.2)\n'
const MISSING = 'An HTTP/1.1 request needs a Host header (RFC 9112 §3.2)\n'

/** The proxy's status line and body for `text` sent on a new connection (after a tunnel's 200). */
async function answer(text: string): Promise<{ status: string; body: string }> {
  const reply = Buffer.from(await rawExchange(running.port, text), 'latin1').toString('utf8')
  // Inside a tunnel, what follows the CONNECT's own answer.
  const inner = reply.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '')
  const [head = '', body = ''] = inner.split('\r\n\r\n')
  return { status: head.split('\r\n')[0] ?? '', body }
}

const TUNNEL = 'CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n'

describe('Host lines', () => {
  it.each([
    [
      'absolute form',
      'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nhost: other.example\r\n\r\n',
    ],
    [
      'the same host twice',
      'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nHost: example.com\r\n\r\n',
    ],
    [
      'inside a tunnel',
      `${TUNNEL}GET / HTTP/1.1\r\nHost: example.com\r\nHOST: other.example\r\n\r\n`,
    ],
    ['origin form', 'GET / HTTP/1.1\r\nHost: localhost\r\nhost: other.example\r\n\r\n'],
  ])('refuses two of them (%s) with 400 and the reason', async (_where, text) => {
    const { status, body } = await answer(text)
    expect(status).toBe('HTTP/1.1 400 Bad Request')
    expect(body).toBe(REPEATED)
  })

  it.each([
    ['absolute form', 'GET http://example.com/ HTTP/1.1\r\n\r\n'],
    ['inside a tunnel', `${TUNNEL}GET / HTTP/1.1\r\n\r\n`],
    ['origin form', 'GET / HTTP/1.1\r\n\r\n'],
  ])(
    'refuses an HTTP/1.1 request without one (%s) with 400 and the reason',
    async (_where, text) => {
      const { status, body } = await answer(text)
      expect(status).toBe('HTTP/1.1 400 Bad Request')
      expect(body).toBe(MISSING)
    }
  )

  it('passes an HTTP/1.0 request for a path without one to the app, named by the address it reached', async () => {
    const { status, body } = await answer('GET /a HTTP/1.0\r\n\r\n')
    expect(status).toBe('HTTP/1.1 200 OK')
    const host = `127.0.0.1:${running.port}`
    expect(JSON.parse(body)).toMatchObject({ path: '/a', url: `http://${host}/a`, proxyHost: null })
  })

  it('serves HTTP/1.0 without one where the target names the host', async () => {
    const { status, body } = await answer('GET http://example.com/a HTTP/1.0\r\n\r\n')
    expect(status).toBe('HTTP/1.1 200 OK')
    expect(JSON.parse(body)).toMatchObject({
      path: '/http://example.com/a',
      headers: { host: 'example.com' },
    })
  })
})
