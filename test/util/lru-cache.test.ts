import { LruCache } from '../../src/util/lru-cache'

describe('LruCache', () => {
  it('keeps at most maxSize entries, dropping the least recently used', () => {
    const cache = new LruCache<string, number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    expect(cache.get('a')).toBe(1)
    cache.set('c', 3)
    expect(cache.size).toBe(2)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(1)
    expect(cache.get('c')).toBe(3)
  })

  it('never drops an entry read at least every maxSize / 2 insertions, and drops the rest oldest first', () => {
    const cache = new LruCache<string, number>(8)
    cache.set('hot', 0)
    for (let n = 1; n <= 100; n++) {
      cache.set(`cold${n}`, n)
      if (n % 4 === 0) {
        expect(cache.get('hot'), `after ${n} insertions`).toBe(0)
      }
      expect(cache.size).toBeLessThanOrEqual(8)
    }
    // The seven newest cold entries and the hot one.
    expect(cache.get('cold94')).toBe(94)
    expect(cache.get('cold93')).toBeUndefined()
    expect(cache.get('cold1')).toBeUndefined()
  })

  it('drops an entry that is not read again after maxSize newer ones', () => {
    const cache = new LruCache<string, number>(8)
    cache.set('once', 0)
    expect(cache.get('once')).toBe(0)
    for (let n = 1; n <= 8; n++) {
      cache.set(`k${n}`, n)
    }
    expect(cache.get('once')).toBeUndefined()
  })

  it('keeps nothing with maxSize 0', async () => {
    const cache = new LruCache<string, number>(0)
    let calls = 0
    await cache.getOrCreate('a', () => Promise.resolve(++calls))
    await cache.getOrCreate('a', () => Promise.resolve(++calls))
    expect(calls).toBe(2)
    expect(cache.size).toBe(0)
  })

  it('refuses a size that is not a whole number >= 0', () => {
    expect(() => new LruCache(-1)).toThrow(RangeError)
    expect(() => new LruCache(1.5)).toThrow(RangeError)
  })

  it('shares one creation between concurrent misses for a key', async () => {
    const cache = new LruCache<string, object>(10)
    let calls = 0
    let release!: (value: object) => void
    const create = () => {
      calls++
      return new Promise<object>((resolve) => (release = resolve))
    }
    const pending = [1, 2, 3].map(() => cache.getOrCreate('k', create))
    release({ v: 1 })
    const values = await Promise.all(pending)
    expect(calls).toBe(1)
    expect(new Set(values).size).toBe(1)
    expect(await cache.getOrCreate('k', create)).toBe(values[0])
    expect(calls).toBe(1)
  })

  it('does not cache a failed creation, so the next call retries', async () => {
    const cache = new LruCache<string, number>(10)
    await expect(cache.getOrCreate('k', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom'
    )
    expect(cache.size).toBe(0)
    expect(await cache.getOrCreate('k', () => Promise.resolve(7))).toBe(7)
  })

  it('creates again when the cached entry is no longer fresh', async () => {
    const cache = new LruCache<string, { n: number }>(10)
    let n = 0
    const create = () => Promise.resolve({ n: ++n })
    await cache.getOrCreate('k', create)
    const again = await cache.getOrCreate('k', create, (v) => v.n > 1)
    expect(again.n).toBe(2)
    expect(cache.get('k')).toBe(again)
  })
})
