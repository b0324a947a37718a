/**
 * What the Fetch-only entry does with CONNECT where it is documented (docs/translation.md): in
 * Node a CONNECT cannot become a Request, and a server made with serve({ fetch }) closes it
 * unanswered. And with a Request whose signal aborts: it is rejected as fetch() rejects.
 */
import { Hono } from 'hono'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createProxy } from '../src/proxy'
import { echoApp } from './helpers/apps'
import { rawExchange } from './helpers/clients'
import { serveFetchEntry } from './helpers/proxy'

let server: Server | undefined
afterEach(async () => {
  if (server) {
    const closed = once(server, 'close')
    server.close()
    await closed
  }
  server = undefined
})

describe('Fetch-only mode and CONNECT', () => {
  it('cannot be given a CONNECT Request in Node: the constructor throws', () => {
    expect(() => new Request('http://example.com:443/', { method: 'CONNECT' })).toThrow(TypeError)
  })

  it('leaves a CONNECT to serve({ fetch: proxy.fetch }) unanswered: Node closes it', async () => {
    const proxy = createProxy(echoApp(), { ca: { file: null } })
    server = await serveFetchEntry(proxy)
    const { port } = server.address() as AddressInfo
    const answer = await rawExchange(
      port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
    )
    expect(answer).toBe('')
  })
})

/** An app that records each request it runs for and answers once `release` is called. */
function heldApp() {
  const ran: Request[] = []
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const app = new Hono()
  app.all('*', async (c) => {
    ran.push(c.req.raw)
    await released
    return c.text('served')
  })
  return { app, ran, release }
}

/** A promise and the function that settles it. */
function deferred<T>() {
  let settle = (_value: T) => {}
  const promise = new Promise<T>((resolve) => (settle = resolve))
  return { promise, settle }
}

describe('proxy.fetch and an aborted request', () => {
  it.each(['http://example.com/a', 'http://wsgiprox/a'])(
    'rejects a Request for %s whose signal is already aborted, as fetch() does, and runs no app',
    async (url) => {
      const { app, ran, release } = heldApp()
      release()
      const proxy = createProxy(app, { ca: { file: null } })
      const controller = new AbortController()
      controller.abort()
      const answered = proxy.fetch(new Request(url, { signal: controller.signal }))
      await expect(answered).rejects.toThrow(DOMException)
      await expect(answered).rejects.toMatchObject({ name: 'AbortError' })
      expect(ran).toEqual([])
    }
  )

  it('rejects with the reason the caller gave', async () => {
    const { app, release } = heldApp()
    release()
    const proxy = createProxy(app, { ca: { file: null } })
    const reason = new Error('the caller gave up')
    const answered = proxy.fetch(
      new Request('http://example.com/', { signal: AbortSignal.abort(reason) })
    )
    await expect(answered).rejects.toBe(reason)
  })

  it('aborts the app request.signal and rejects when the caller aborts while the app runs', async () => {
    const { app, ran, release } = heldApp()
    const proxy = createProxy(app, { ca: { file: null } })
    const controller = new AbortController()
    const answered = proxy.fetch(new Request('http://example.com/a', { signal: controller.signal }))
    await vi.waitFor(() => {
      expect(ran).toHaveLength(1)
    })
    const appSignal = ran[0]?.signal
    expect(appSignal?.aborted).toBe(false)
    controller.abort()
    // The app answers anyway, after the caller left: the caller still gets the abort.
    release()
    await expect(answered).rejects.toMatchObject({ name: 'AbortError' })
    expect(appSignal?.aborted).toBe(true)
  })

  it('cancels the body of a response the app gives after the caller aborted', async () => {
    const cancelled = deferred<unknown>()
    const started = deferred<undefined>()
    const answer = deferred<undefined>()
    const proxy = createProxy(
      {
        fetch: async () => {
          started.settle(undefined)
          await answer.promise
          const body = new ReadableStream({
            cancel: (reason) => {
              cancelled.settle(reason)
            },
          })
          return new Response(body)
        },
      },
      { ca: { file: null } }
    )
    const controller = new AbortController()
    const answered = proxy.fetch(new Request('http://example.com/a', { signal: controller.signal }))
    await started.promise
    controller.abort()
    answer.settle(undefined)
    await expect(answered).rejects.toMatchObject({ name: 'AbortError' })
    await cancelled.promise
  })

  it('runs no app for a proxy host when the caller aborts while an async requireAuth decides', async () => {
    const { app, ran, release } = heldApp()
    release()
    const asked: string[] = []
    const decision = deferred<undefined>()
    const proxy = createProxy(app, {
      ca: { file: null },
      resolver: {
        requireAuth: (request) => {
          asked.push(request.url)
          return decision.promise
        },
        resolve: (url) => `/p/${url}`,
      },
    })
    const controller = new AbortController()
    const answered = proxy.fetch(new Request('http://wsgiprox/a', { signal: controller.signal }))
    await vi.waitFor(() => {
      expect(asked).toEqual(['http://wsgiprox/a'])
    })
    controller.abort()
    // Admission answers after the caller left: the app still never runs.
    decision.settle(undefined)
    await expect(answered).rejects.toMatchObject({ name: 'AbortError' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(ran).toEqual([])
  })

  it('still serves a request whose signal never aborts', async () => {
    const { app, release } = heldApp()
    release()
    const proxy = createProxy(app, { ca: { file: null } })
    const response = await proxy.fetch(
      new Request('http://example.com/a', { signal: new AbortController().signal })
    )
    expect(await response.text()).toBe('served')
  })
})
