import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { ErrorContext } from '../../src/types'
import { rawExchange } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

/**
 * An app that names Content-Length twice, in two letter cases, as archived headers can: the
 * Response class node-server installs passes a plain object on as it is.
 */
function twoLengths(request: Request): Response {
  const path = new URL(request.url).pathname.replace(/^\/https?:\/\/[^/]+/, '')
  const second = path === '/same' ? '5' : '15'
  return new Response('hello, and more', {
    headers: { 'Content-Length': '5', 'content-length': second },
  })
}

let running: RunningProxy | undefined
const reports: { error: Error; context: ErrorContext }[] = []

beforeEach(async () => {
  reports.length = 0
  running = await startProxy(twoLengths, {
    onError: (error, context) => reports.push({ error, context }),
  })
})
afterEach(async () => {
  await running?.close()
  running = undefined
})

function lengthLines(reply: string): string[] {
  const head = reply.slice(0, reply.indexOf('\r\n\r\n'))
  return head.split('\r\n').filter((line) => /^content-length:/i.test(line))
}

describe('a Content-Length the app names twice', () => {
  it('is sent once when both say the same', async () => {
    const reply = await rawExchange(
      running?.port ?? 0,
      'GET http://archived.example/same HTTP/1.1\r\nHost: archived.example\r\nConnection: close\r\n\r\n'
    )
    expect(lengthLines(reply)).toEqual(['Content-Length: 5'])
    expect(reply.endsWith('\r\n\r\nhello')).toBe(true)
  })

  it('is dropped, and the whole body sent, when the two disagree', async () => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: running?.port,
      path: 'http://archived.example/different',
      headers: { host: 'archived.example' },
    })
    req.end()
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    let body = ''
    for await (const chunk of res) {
      body += String(chunk)
    }
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-length']).toBeUndefined()
    expect(body).toBe('hello, and more')
    expect(reports.map(({ error }) => error.message)).toContain(
      'The app sent an unreadable Content-Length; it was dropped'
    )
  })
})
