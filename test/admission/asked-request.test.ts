/**
 * The Request a resolver's callbacks are shown: built lazily (its URL, method and headers without
 * a Fetch Request behind them), it must read as a Fetch Request built from the same parts would.
 */
import { describe, expect, it } from 'vitest'
import { fetchMethod, requestOf } from '../../src/admission/asked'

const headers = () =>
  new Headers([
    ['proxy-authorization', 'Basic bWU6'],
    ['x-a', '1'],
  ])

describe('the request shown to requireAuth and resolve', () => {
  it('reads as a Fetch Request of the same URL, method and headers', async () => {
    const view = requestOf('http://example.com/a b?c', 'POST', headers)
    const real = new Request('http://example.com/a b?c', { method: 'POST', headers: headers() })
    expect(view).toBeInstanceOf(Request)
    expect(view.url).toBe(real.url)
    expect(view.method).toBe(real.method)
    expect([...view.headers]).toEqual([...real.headers])
    expect(view.signal).toBeInstanceOf(AbortSignal)
    expect(view.signal.aborted).toBe(false)
    expect(view.bodyUsed).toBe(false)
    expect(view.body).toBeNull()
    expect(view.redirect).toBe(real.redirect)
    expect(await view.text()).toBe('')
    const copy = view.clone()
    expect(copy).toBeInstanceOf(Request)
    expect(copy.url).toBe(real.url)
    expect(copy.headers.get('x-a')).toBe('1')
    expect(Object.prototype.toString.call(view)).toBe('[object Request]')
  })

  it('builds the headers only when they are read, and once', () => {
    let built = 0
    const view = requestOf('http://example.com/', 'GET', () => {
      built++
      return headers()
    })
    expect(view.url).toBe('http://example.com/')
    expect(view.method).toBe('GET')
    expect(built).toBe(0)
    expect(view.headers.get('x-a')).toBe('1')
    expect(view.headers).toBe(view.headers)
    expect(view.signal.aborted).toBe(false)
    expect(built).toBe(1)
  })

  it('shows a method as Fetch would, and one Fetch refuses as GET', () => {
    const rows: [string, string][] = [
      ['get', 'GET'],
      ['delete', 'DELETE'],
      ['PATCH', 'PATCH'],
      ['PROPFIND', 'PROPFIND'],
      ['CONNECT', 'GET'],
      ['TRACE', 'GET'],
      ['track', 'GET'],
      ['BAD METHOD', 'GET'],
    ]
    for (const [method, shown] of rows) {
      expect(fetchMethod(method), method).toBe(shown)
      const real = (() => {
        try {
          return new Request('http://example.com/', { method }).method
        } catch {
          return 'GET'
        }
      })()
      expect(shown, `${method} as Fetch shows it`).toBe(real)
      expect(requestOf('http://example.com/', method, headers).method).toBe(shown)
    }
  })

  it('refuses its accessors on anything but a view', () => {
    const view = requestOf('http://example.com/', 'GET', headers)
    const prototype = Object.getPrototypeOf(view) as object
    for (const name of ['signal', 'url', 'headers']) {
      expect(Object.getOwnPropertyDescriptor(prototype, name), name).toHaveProperty('get')
      expect(() => Reflect.get(prototype, name, {}) as unknown, name).toThrow(TypeError)
    }
  })
})
