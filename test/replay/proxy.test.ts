/**
 * Replay through the proxy, with undici as the client: time selection, ranges, collections by
 * proxy user name, the proxy's own pages without credentials, and nothing fetched live.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { proxyGet } from '../helpers/clients'
import type { ReplayProxy } from './helpers/replay-proxy'
import { archivesOf, startReplayProxy } from './helpers/replay-proxy'
import { OTHER, PAGE_HOST, STATIC_HOST, VIDEO } from './helpers/site'

let proxy: ReplayProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const started = async (two = false) => (proxy = await startReplayProxy(archivesOf(two)))

describe('replay through the proxy', () => {
  it('serves the latest capture by default and the closest one to Accept-Datetime', async () => {
    const { get } = await started()
    const latest = await get(`https://${PAGE_HOST}/`)
    expect(latest.status).toBe(200)
    expect(await latest.text()).toContain('Archived in 2023')
    expect(latest.headers.get('memento-datetime')).toBe('Mon, 01 May 2023 12:00:00 GMT')

    const early = await get(`https://${PAGE_HOST}/`, {
      headers: { 'Accept-Datetime': 'Thu, 02 Jan 2020 00:00:00 GMT' },
    })
    expect(await early.text()).toContain('Archived in 2020')
    expect(early.headers.get('memento-datetime')).toBe('Wed, 01 Jan 2020 00:00:00 GMT')
  })

  it('answers a request asked again as the first time, apart by Accept-Datetime and by app', async () => {
    const { get } = await started()
    const early = { headers: { 'Accept-Datetime': 'Thu, 02 Jan 2020 00:00:00 GMT' } }
    const page = async (init?: { headers: Record<string, string> }) => {
      const response = await get(`https://${PAGE_HOST}/`, init)
      return `${response.headers.get('memento-datetime')} ${await response.text()}`
    }
    for (let round = 0; round < 3; round++) {
      expect(await page()).toMatch(/^Mon, 01 May 2023 .*Archived in 2023/s)
      expect(await page(early)).toMatch(/^Wed, 01 Jan 2020 .*Archived in 2020/s)
    }
    // Another proxy in this process, whose one collection has the same name and other captures.
    const second = await startReplayProxy({ 'site.warc.gz': OTHER })
    try {
      for (let round = 0; round < 2; round++) {
        const response = await second.get(`https://${PAGE_HOST}/`)
        expect(await response.text()).toContain('from the other archive')
        expect(await page()).toContain('Archived in 2023')
      }
    } finally {
      await second.close()
    }
  })

  it.each(['soon', '1', 'Thu, 02 Jan 2020 00:00:00'])(
    'answers 400 to an Accept-Datetime that is not an HTTP date: %j',
    async (header) => {
      const { get } = await started()
      const response = await get(`https://${PAGE_HOST}/`, {
        headers: { 'Accept-Datetime': header },
      })
      expect(response.status).toBe(400)
      expect(await response.text()).toMatch(/Accept-Datetime must be an HTTP date/)
    }
  )

  it('answers a range of a video-like resource with 206 and 416 past its end', async () => {
    const { get } = await started()
    const range = await get(`https://${PAGE_HOST}/video.mp4`, {
      headers: { Range: 'bytes=1000-1999' },
    })
    expect(range.status).toBe(206)
    expect(range.headers.get('content-range')).toBe(`bytes 1000-1999/${VIDEO.length}`)
    expect(Buffer.from(await range.arrayBuffer())).toEqual(VIDEO.subarray(1000, 2000))

    const tail = await get(`https://${PAGE_HOST}/video.mp4`, { headers: { Range: 'bytes=-10' } })
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(VIDEO.subarray(-10))

    const past = await get(`https://${PAGE_HOST}/video.mp4`, { headers: { Range: 'bytes=70000-' } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${VIDEO.length}`)
  })

  it('replays a captured redirect as it was captured', async () => {
    const { get } = await started()
    const response = await get(`https://${PAGE_HOST}/old`, {})
    // undici follows redirects by default: it arrives at the archived target.
    expect(response.url).toBe(`https://${PAGE_HOST}/new`)
    expect(await response.text()).toContain('moved here')
  })

  it('reaches a second collection by proxy user name and asks for one without it', async () => {
    const { get, running } = await started(true)
    expect(await (await get(`http://${PAGE_HOST}/`, { user: 'other' })).text()).toContain(
      'from the other archive'
    )
    expect(await (await get(`https://${PAGE_HOST}/`, { user: 'site' })).text()).toContain(
      'Archived in 2023'
    )
    // A direct request (no proxy) is for the proxy's own page: no login.
    expect((await fetch(`${running.url}/`)).status).toBe(200)
    const challenged = await proxyGet(running.port, `http://${PAGE_HOST}/`)
    expect(challenged.status).toBe(407)
    expect(challenged.headers['proxy-authenticate']).toMatch(/^Basic realm=".*site, other"$/)
  })

  it('answers an unknown collection with a 404 page listing the collections', async () => {
    const { get } = await started(true)
    const response = await get(`http://${PAGE_HOST}/`, { user: 'nope' })
    expect(response.status).toBe(404)
    const page = await response.text()
    expect(page).toContain('There is no collection named <code>nope</code>')
    expect(page).toContain('<code>site</code>')
    expect(page).toContain('<code>other</code>')
  })

  it('lists collections and pages on the proxy host, and serves the CA, with no credentials', async () => {
    const { get } = await started(true)
    const home = await get('http://wsgiprox/')
    expect(home.status).toBe(200)
    const page = await home.text()
    expect(page).toContain('<h2>site</h2>')
    expect(page).toContain(`href="https://${PAGE_HOST}/"`)
    expect(page).toContain(`href="https://${PAGE_HOST}/new"`)
    const pem = await get('http://wsgiprox/download/pem')
    expect(pem.status).toBe(200)
    expect(await pem.text()).toContain('BEGIN CERTIFICATE')
    expect((await get('https://wsgiprox/')).status).toBe(200)
    const pac = await get('http://wsgiprox/proxy.pac')
    expect(pac.headers.get('content-type')).toMatch(/^application\/x-ns-proxy-autoconfig/)
  })

  it('answers an un-archived URL with the 404 page and opens no connection to it', async () => {
    let connections = 0
    const origin = createServer((_req, res) => res.end('live'))
    origin.on('connection', () => connections++)
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
    const { port } = origin.address() as AddressInfo
    try {
      const { get } = await started()
      const response = await get(`http://127.0.0.1:${port}/live`)
      expect(response.status).toBe(404)
      const page = await response.text()
      expect(page).toContain(`<code>http://127.0.0.1:${port}/live</code> is not archived`)
      expect(page).toContain('Nothing was fetched from the live web')
      expect(connections).toBe(0)
    } finally {
      await new Promise((resolve) => origin.close(resolve))
    }
  })

  it('answers an uncaptured CORS preflight permissively', async () => {
    const { get } = await started()
    const response = await get(`https://${STATIC_HOST}/data.json`, {
      method: 'OPTIONS',
      headers: {
        Origin: `https://${PAGE_HOST}`,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-requested-with',
      },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(`https://${PAGE_HOST}`)
    expect(response.headers.get('access-control-allow-headers')).toBe('x-requested-with')
    expect(response.headers.get('access-control-allow-credentials')).toBe('true')
  })
})
