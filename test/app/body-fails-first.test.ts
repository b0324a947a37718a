/**
 * A body stream that fails before it gave a byte, within the turn in which the app answered: on
 * its first pull, in an async pull that rejects, or in its start. No byte of the response exists
 * yet, so it is answered with `502` and the reason, the same over HTTP/1.0, 1.1, a TLS tunnel,
 * HTTP/2 and from a proxy app. Before, the answer hung on how many microtask turns the stream's
 * start took: a `200` head and a cut connection on some ways in, a `502` on others.
 */
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { ErrorContext } from '../../src/types'
import { h2Get, h2OverTunnel, httpsTunnel, rawExchange, requestOver } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

const failing: Record<string, () => ReadableStream<Uint8Array>> = {
  '/fails-on-pull': () =>
    new ReadableStream({
      pull(controller) {
        controller.error(new Error('the first pull failed'))
      },
    }),
  '/rejects-in-pull': () =>
    new ReadableStream({
      async pull() {
        await Promise.resolve()
        throw new Error('the first pull failed')
      },
    }),
  '/fails-in-start': () =>
    new ReadableStream({
      async start() {
        await Promise.resolve()
        throw new Error('the first pull failed')
      },
    }),
}

/** Lets the body of `/waits` go on: set by the test once the client has the head. */
let goOn: () => void = () => {}

function app(request: Request): Response {
  const path = new URL(request.url).pathname.replace(/^\/https?:\/\/[^/]+/, '')
  if (path === '/waits') {
    const waited = new Promise<void>((resolve) => (goOn = resolve))
    return new Response(
      new ReadableStream({
        async start(controller) {
          await waited
          controller.enqueue(new TextEncoder().encode('late'))
          controller.close()
        },
      })
    )
  }
  const make = failing[path]
  return make ? new Response(make()) : new Response('ok')
}

let running: RunningProxy
const reports: { error: Error; context: ErrorContext }[] = []
beforeAll(async () => {
  running = await startProxy(app, {
    proxyApps: { 'apps.example': app },
    onError: (error, context) => reports.push({ error, context }),
  })
})
afterAll(() => running.close())
beforeEach(() => {
  reports.length = 0
})

const REASON =
  "Bad Gateway: the app's response could not be sent (its body failed before its response began: the first pull failed)\n"

/** The status line and body of a raw exchange read to the close. */
function statusAndBody(reply: string): [string, string] {
  const at = reply.indexOf('\r\n\r\n')
  return [reply.slice(0, reply.indexOf('\r\n')), reply.slice(at + 4)]
}

describe.each(Object.keys(failing))('a body that fails before its first byte (%s)', (path) => {
  it.each([
    ['HTTP/1.1', 'example.com'],
    ['HTTP/1.0', 'example.com'],
    ['HTTP/1.1', 'apps.example'],
    ['HTTP/1.0', 'apps.example'],
  ])('gets 502 with the reason over %s to %s', async (version, host) => {
    const reply = await rawExchange(
      running.port,
      `GET http://${host}${path} ${version}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
    )
    expect(statusAndBody(reply)).toEqual(['HTTP/1.1 502 Bad Gateway', REASON])
    expect(reports.map(({ context }) => context.phase)).toEqual(['app'])
  })

  it('gets 502 with the reason in a TLS tunnel and over HTTP/2', async () => {
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    expect(await requestOver(tls, path)).toMatchObject({ status: 502, body: REASON })
    tls.destroy()
    const { session } = await h2OverTunnel(running.port, running.caPem)
    expect(await h2Get(session, path)).toMatchObject({ status: 502, body: REASON })
    session.close()
  })
})

it('sends the head of a body whose first chunk is not there yet, without waiting for it', async () => {
  const req = httpRequest({
    host: '127.0.0.1',
    port: running.port,
    path: 'http://example.com/waits',
    headers: { host: 'example.com' },
    agent: false,
  })
  req.end()
  // The app's body waits for this head: a proxy that held the head for the first chunk hangs.
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  expect(res.statusCode).toBe(200)
  goOn()
  let body = ''
  for await (const chunk of res) {
    body += String(chunk)
  }
  expect(body).toBe('late')
})
