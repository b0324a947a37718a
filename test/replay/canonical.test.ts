/**
 * The lookup keys: which request URLs find which captures, and the index's size per capture.
 */
import { CaptureIndexBuilder, MethodClass, RecordKind } from '../../src/replay/capture-index'
import { urlKeys } from '../../src/replay/index'

describe('urlKeys', () => {
  it.each([
    ['http://Example.COM/a', 'https://example.com/a'],
    ['https://example.com:443/a', 'http://example.com:80/a'],
    ['https://www.example.com/a?', 'http://example.com/a'],
    ['http://example.com/a?b=2&a=1', 'http://example.com/a?a=1&b=2'],
    ['http://example.com/A#frag', 'http://example.com/a'],
    ['http://example.com/%7Euser/a%2Db?q=%61', 'http://example.com/~user/a-b?q=a'],
  ])('gives %s and %s the same key', (a, b) => {
    expect(urlKeys(a).exact).toBe(urlKeys(b).exact)
  })

  it.each([
    ['http://example.com/a', 'http://example.com/b'],
    ['http://example.com:8080/a', 'http://example.com/a'],
    ['http://example.com/a?x=1', 'http://example.com/a?x=2'],
    ['http://example.com/a?_=123', 'http://example.com/a?_=456'],
    ['http://example.com/a%2Fb', 'http://example.com/a/b'],
    ['http://example.com/a?q=%26', 'http://example.com/a?q=&'],
    ['http://example.com/a?zoom=0.5', 'http://example.com/a?zoom=0.25'],
  ])('tells %s from %s', (a, b) => {
    expect(urlKeys(a).exact).not.toBe(urlKeys(b).exact)
    if (a.includes('zoom')) {
      expect(urlKeys(a).loose).not.toBe(urlKeys(b).loose)
    }
  })

  it.each([
    ['http://example.com/a?_=1733000000000&v=1', 'http://example.com/a?v=1&_=42'],
    ['http://example.com/a?cb=9', 'http://example.com/a'],
    ['http://example.com/a?t=1733000000', 'http://example.com/a?t=1799999999'],
    ['http://example.com/a?t=0.8237461985', 'http://example.com/a?t=0.1049582617'],
    ['http://example.com/a?ts=1733000000.25', 'http://example.com/a'],
    ['http://example.com/a?v=2&__rnd=77', 'http://example.com/a?v=2'],
    [
      'http://example.com/api?callback=jQuery1124_1733000000001&q=x',
      'http://example.com/api?q=x&callback=jQuery3310_1599000000002&_=1599000000003',
    ],
    ['http://example.com/api?cb=jQuery1_2', 'http://example.com/api?callback=handle'],
    ['http://example.com/api?jsonp=x', 'http://example.com/api'],
  ])('drops cache-busting parameters from the loose key of %s', (a, b) => {
    expect(urlKeys(a).loose).toBe(urlKeys(b).loose)
  })
})

describe('the capture index', () => {
  it('finds captures by key, keeps methods apart, and costs under 48 bytes a capture', () => {
    const builder = new CaptureIndexBuilder()
    for (let i = 0; i < 5000; i++) {
      builder.add({
        url: `https://example.com/page/${i}?q=${i % 7}`,
        source: 0,
        offset: i * 1000,
        length: 900,
        time: 1_600_000_000 + i,
        kind: RecordKind.response,
        method: i === 42 ? MethodClass.other : MethodClass.get,
      })
    }
    const index = builder.build()
    expect(index.lookup('http://example.com/page/7?q=0', MethodClass.get)).toEqual([
      expect.objectContaining({ offset: 7000, time: 1_600_000_007 }),
    ])
    expect(index.lookup('https://example.com/page/42?q=0', MethodClass.get)).toEqual([])
    expect(index.lookup('https://example.com/page/42?q=0', MethodClass.other)).toHaveLength(1)
    expect(index.lookup('https://example.com/page/5000?q=2', MethodClass.get)).toEqual([])
    expect(index.byteLength / index.size).toBeLessThan(48)
  })
})
