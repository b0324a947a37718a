/**
 * setProxyApp for a host the proxy was not started with, as a test adds a fake in its own body:
 * the host becomes a proxy host from the next request on (its own path, untranslated), over a
 * connection kept alive from before, for Node's fetch and for curl in a child process.
 */
import { Hono } from 'hono'
import { execFile } from 'node:child_process'
import { Agent, get } from 'node:http'
import { promisify } from 'node:util'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const echoPath = (request: Request) => new Response(`main app: ${new URL(request.url).pathname}`)
const pay = new Hono().post('/v1/charges', (c) => c.json({ id: 'ch_1' }, 201))

describe('setProxyApp for a host not named at start', () => {
  it('serves the new fake to fetch, on the tunnel it kept alive', async () => {
    proxy = await startProxy(echoPath)
    const charge = async () => {
      const response = await fetch('https://pay.example.com/v1/charges', {
        ...proxy?.fetchInit,
        method: 'POST',
      })
      return `${response.status} ${await response.text()}`
    }
    expect(await charge()).toBe('200 main app: /https://pay.example.com/v1/charges')
    proxy.setProxyApp('pay.example.com', pay)
    expect(await charge()).toBe('201 {"id":"ch_1"}')
    expect(proxy.requests.map(({ route, path }) => ({ route, path }))).toEqual([
      { route: 'app', path: '/https://pay.example.com/v1/charges' },
      { route: 'pay.example.com', path: '/v1/charges' },
    ])
  })

  it('takes the host from the next request on, on a plain-HTTP connection kept alive', async () => {
    proxy = await startProxy(echoPath)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const ask = (url: string) =>
      new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port: proxy?.port, path: url, agent }, (response) => {
          response.setEncoding('utf8')
          let body = ''
          response.on('data', (chunk: string) => {
            body += chunk
          })
          response.on('end', () => {
            resolve(body)
          })
        }).on('error', reject)
      })
    expect(await ask('http://pay.example.com/other')).toBe(
      'main app: /http://pay.example.com/other'
    )
    proxy.setProxyApp('pay.example.com', pay)
    // What the fake does not handle falls through to the main app, untranslated as for any proxy host.
    expect(await ask('http://pay.example.com/other')).toBe('main app: /other')
    agent.destroy()
  })

  it('serves it to curl in a child process, with a certificate issued for the host', async () => {
    proxy = await startProxy(echoPath)
    proxy.setProxyApp('pay.example.com', pay)
    const { stdout } = await promisify(execFile)(
      'curl',
      ['-sS', '-X', 'POST', '-w', ' %{http_code}', 'https://pay.example.com/v1/charges'],
      { env: { ...process.env, ...proxy.env } }
    )
    expect(stdout).toBe('{"id":"ch_1"} 201')
  })
})
