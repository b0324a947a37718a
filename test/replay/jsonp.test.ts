/**
 * Cache-busters and JSONP as pywb replays them: a script asks for `api?callback=jQuery<n>_<ms>&_=<ms>`
 * with names made up on each load, and gets the archived answer, renamed to call its callback.
 */
import { DATA, JSONP_ARCHIVE } from './helpers/jsonp-site'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

let proxy: ReplayProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

describe('JSONP and cache-busters', () => {
  it('answers a JSONP request of another callback name with the archived data, calling it', async () => {
    proxy = await startReplayProxy({ 'jsonp.warc.gz': JSONP_ARCHIVE })
    const response = await proxy.get(
      'https://api.jsonp.example/feed?callback=jQuery3310_1733000000000&_=1733000000001',
      { headers: { 'Accept-Encoding': 'gzip' } }
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(await response.text()).toBe(`/**/ jQuery3310_1733000000000(${DATA});`)
  })

  it('leaves a script that is no JSONP answer as it is', async () => {
    proxy = await startReplayProxy({ 'jsonp.warc.gz': JSONP_ARCHIVE })
    const response = await proxy.get('https://api.jsonp.example/plain.js?callback=y')
    expect(await response.text()).toBe('jQuery(function () { return 1 })')
  })

  it.each([
    ['https://static.jsonp.example/chart.js?t=0.9472615308', 'chart()'],
    ['https://static.jsonp.example/stats?__rnd=5&v=2', 'stats'],
  ])('finds %s by its capture with another cache-buster', async (url, body) => {
    proxy = await startReplayProxy({ 'jsonp.warc.gz': JSONP_ARCHIVE })
    const response = await proxy.get(url)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(body)
  })
})
