/**
 * Headless Chromium through the replay proxy, trusting its CA with an NSS database as a user
 * would (certificate errors are never ignored): the archived https page on one host, with its
 * stylesheet, images and data from another, and a captured redirect.
 */
import type { BrowserContext, Page } from 'playwright-core'
import {
  BROWSER_TEST_TIMEOUT_MS,
  expectScreenshot,
  launchChromium,
  nssDatabase,
  tempDir,
} from '../helpers/browsers'
import { JSONP_ARCHIVE } from './helpers/jsonp-site'
import type { ArchiveSet, ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'
import { PAGE_HOST } from './helpers/site'

let proxy: ReplayProxy | undefined
let context: BrowserContext | undefined
let home: { remove(): Promise<void> } | undefined
afterEach(async () => {
  await context?.close()
  await proxy?.close()
  await home?.remove()
  context = proxy = home = undefined
})

async function browser(archives?: ArchiveSet) {
  proxy = await startReplayProxy(archives)
  const dir = await tempDir('wsgiprox-replay-chromium-')
  home = dir
  await nssDatabase(`${dir.path}/.pki/nssdb`, proxy.running.caPem)
  context = await launchChromium(dir.path, proxy.running.port)
  return context.pages()[0] ?? (await context.newPage())
}

describe('chromium on the replay proxy', { timeout: BROWSER_TEST_TIMEOUT_MS }, () => {
  it('renders the archived https page with its stylesheet, images and data from another host', async () => {
    const page = await browser()
    const response = await page.goto(`https://${PAGE_HOST}/`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe('Archived home')
    expect(await page.textContent('#heading')).toBe('Archived in 2023')
    await page.waitForFunction(() =>
      [...document.images].every((img) => img.complete && img.naturalWidth > 0)
    )
    const sizes = await page.$$eval('img', (imgs) =>
      imgs.map((img) => [img.id, img.naturalWidth, img.naturalHeight])
    )
    expect(sizes).toEqual([
      ['logo', 16, 12],
      ['photo', 40, 30],
    ])
    expect(await page.$eval('#heading', (h) => getComputedStyle(h).color)).toBe('rgb(0, 128, 0)')
    await page.waitForFunction(() => document.getElementById('data')?.textContent !== 'pending')
    expect(await page.textContent('#data')).toBe('data from the archive')
    await expectScreenshot(await page.screenshot({ fullPage: true }), 'replay-chromium-page.png')
  })

  it('follows a captured redirect to its archived target', async () => {
    const page = await browser()
    await page.goto(`https://${PAGE_HOST}/old`)
    expect(page.url()).toBe(`https://${PAGE_HOST}/new`)
    expect(await page.title()).toBe('The new page')
  })

  it('follows a captured redirect whose Location has letters beyond ASCII', async () => {
    const page = await browser({
      'utf8.warc.gz': [
        {
          url: 'https://utf8.example/menu',
          statusline: 'HTTP/1.1 301 Moved Permanently',
          headers: { Location: '/café' },
        },
        // The crawler followed it to the URL the browser makes of it: UTF-8, percent-encoded.
        {
          url: 'https://utf8.example/caf%C3%A9',
          body: '<!doctype html><meta charset="utf-8"><title>Le café</title>',
        },
      ],
    })
    const response = await page.goto('https://utf8.example/menu')
    expect(page.url()).toBe('https://utf8.example/caf%C3%A9')
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe('Le café')
  })

  it('opens a page asked for by http:// at the https:// origin its captured redirect names', async () => {
    const page = await browser({
      'upgrade.warc.gz': [
        {
          url: 'http://upgrade.example/',
          date: '2020-01-01T00:00:00Z',
          statusline: 'HTTP/1.1 301 Moved Permanently',
          headers: { Location: 'https://upgrade.example/' },
        },
        {
          // Captured after the redirect that led to it, as a crawler following it records it.
          url: 'https://upgrade.example/',
          date: '2020-01-01T00:00:01Z',
          body: `<!doctype html><title>Upgraded</title><p id="data">pending</p><script>
fetch('https://api.upgrade.example/me', { credentials: 'include' }).then((r) => r.text())
  .then((t) => { document.getElementById('data').textContent = t + ', ' + isSecureContext })
  .catch((e) => { document.getElementById('data').textContent = 'failed: ' + e })
</script>`,
        },
        {
          url: 'https://api.upgrade.example/me',
          headers: {
            'Content-Type': 'text/plain',
            'Access-Control-Allow-Origin': 'https://upgrade.example',
            'Access-Control-Allow-Credentials': 'true',
          },
          body: 'archived data',
        },
      ],
    })
    await page.goto('http://upgrade.example/')
    expect(page.url()).toBe('https://upgrade.example/')
    await page.waitForFunction(() => document.getElementById('data')?.textContent !== 'pending')
    expect(await page.textContent('#data')).toBe('archived data, true')
  })

  it('keeps a cookie an archived page set, long expired, for the archived page that reads it', async () => {
    const page = await browser({
      'cookie.warc.gz': [
        {
          url: 'https://cookie.example/login',
          date: '2024-01-01T00:00:00Z',
          headers: {
            'Content-Type': 'text/html',
            'Set-Cookie': 'sid=abc; Path=/; Expires=Tue, 02 Jan 2024 00:00:00 GMT; Secure',
          },
          body: '<!doctype html><title>Logged in</title>',
        },
        {
          url: 'https://cookie.example/me',
          date: '2024-01-01T00:00:01Z',
          body: `<!doctype html><title>Me</title><p id="cookie"></p><script>
document.getElementById('cookie').textContent = document.cookie
</script>`,
        },
      ],
    })
    await page.goto('https://cookie.example/login')
    await page.goto('https://cookie.example/me')
    expect(await page.textContent('#cookie')).toBe('sid=abc')
  })

  it('runs an archived JSONP answer for the callback name the page made up', async () => {
    const page = await browser({ 'jsonp.warc.gz': JSONP_ARCHIVE })
    await page.goto('https://jsonp.example/')
    await page.waitForFunction(() => document.getElementById('data')?.textContent !== 'pending')
    expect(await page.textContent('#data')).toBe('from the archived API')
  })

  it('shows the not-archived page for a URL the archive lacks', async () => {
    const page = await browser()
    const response = await page.goto(`https://${PAGE_HOST}/missing`)
    expect(response?.status()).toBe(404)
    expect(await page.title()).toBe('Not in the archive')
  })

  it('renders a page captured without a Content-Type as the HTML it is', async () => {
    const page = await browser({
      'untyped.warc': [
        {
          url: 'https://untyped.example/',
          headers: { 'X-Served-By': 'an old server' },
          body: '<!doctype html><title>Untyped</title><p id="p">an html page</p>',
        },
      ],
    })
    const response = await page.goto('https://untyped.example/')
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe('Untyped')
    expect(await page.textContent('#p')).toBe('an html page')
  })

  it('shows the archived answer to each of two POSTs of different bodies', async () => {
    const api = 'https://post.example/api'
    const page = await browser({
      'post.warc': [
        {
          url: 'https://post.example/',
          headers: { 'Content-Type': 'text/html' },
          body: `<!doctype html><title>Posts</title><p id="answers">pending</p><script>
const ask = (q) => fetch('/api', { method: 'POST', body: JSON.stringify({ q }) }).then((r) => r.text())
Promise.all([ask('a'), ask('b')]).then((answers) => {
  document.getElementById('answers').textContent = answers.join(' / ')
})
</script>`,
        },
        ...['a', 'b'].map((q, i) => ({
          url: api,
          date: `202${i}-01-01T00:00:00Z`,
          method: 'POST',
          requestType: 'application/json',
          requestBody: JSON.stringify({ q }),
          headers: { 'Content-Type': 'text/plain' },
          body: `answer to ${q}`,
        })),
      ],
    })
    await page.goto('https://post.example/')
    await page.waitForFunction(() => document.getElementById('answers')?.textContent !== 'pending')
    expect(await page.textContent('#answers')).toBe('answer to a / answer to b')
  })

  it('plays and seeks in audio captured as a 206 holding the whole file', async () => {
    const audio = wav(8000, 20)
    const page = await browser({
      'media.warc': [
        {
          url: 'https://media.example/',
          headers: { 'Content-Type': 'text/html' },
          body: '<!doctype html><title>Media</title><audio id="a" src="/a.wav" preload="auto"></audio>',
        },
        {
          url: 'https://media.example/a.wav',
          statusline: 'HTTP/1.1 206 Partial Content',
          headers: {
            'Content-Type': 'audio/wav',
            'Content-Range': `bytes 0-${audio.length - 1}/${audio.length}`,
          },
          body: audio,
        },
      ],
    })
    await page.goto('https://media.example/')
    const seeked = await seekAudio(page, 15)
    expect(seeked).toBe('duration 20 at 15')
  })

  it('plays and seeks in audio captured as two 206 parts, as the player asked for them', async () => {
    const audio = wav(8000, 60)
    const split = 200_000
    const page = await browser({
      'parts.warc.gz': [
        {
          url: 'https://parts.example/',
          headers: { 'Content-Type': 'text/html' },
          body: '<!doctype html><title>Parts</title><audio id="a" src="/a.wav" preload="auto"></audio>',
        },
        ...[
          [0, split - 1],
          [split, audio.length - 1],
        ].map(([first = 0, last = 0], i) => ({
          url: 'https://parts.example/a.wav',
          date: `2020-01-01T00:00:0${i}Z`,
          statusline: 'HTTP/1.1 206 Partial Content',
          headers: {
            'Content-Type': 'audio/wav',
            'Content-Range': `bytes ${first}-${last}/${audio.length}`,
          },
          body: audio.subarray(first, last + 1),
        })),
      ],
    })
    await page.goto('https://parts.example/')
    // 45 s is byte 360,044: in the second part.
    expect(await seekAudio(page, 45)).toBe('duration 60 at 45')
  })
})

/** Play the page's `#a` audio and seek it to `seconds`: what it says once seeked, or its error. */
async function seekAudio(page: Page, seconds: number): Promise<string> {
  return page.$eval(
    '#a',
    (element, to) => {
      const a = element as HTMLAudioElement
      return new Promise<string>((resolve) => {
        const seek = () => {
          a.onseeked = () => {
            resolve(`duration ${Math.round(a.duration)} at ${Math.round(a.currentTime)}`)
          }
          a.currentTime = to
        }
        a.onerror = () => {
          resolve(`error ${a.error?.code}`)
        }
        if (a.error) {
          resolve(`error ${a.error.code}`)
        } else if (a.readyState >= 1) {
          seek()
        } else {
          a.onloadedmetadata = seek
        }
      })
    },
    seconds
  )
}

/** A WAV file of `seconds` of an 8-bit mono tone at `rate` samples a second. */
function wav(rate: number, seconds: number): Buffer {
  const samples = rate * seconds
  const file = Buffer.alloc(44 + samples)
  file.write('RIFF', 0)
  file.writeUInt32LE(36 + samples, 4)
  file.write('WAVEfmt ', 8)
  file.writeUInt32LE(16, 16)
  file.writeUInt16LE(1, 20)
  file.writeUInt16LE(1, 22)
  file.writeUInt32LE(rate, 24)
  file.writeUInt32LE(rate, 28)
  file.writeUInt16LE(1, 32)
  file.writeUInt16LE(8, 34)
  file.write('data', 36)
  file.writeUInt32LE(samples, 40)
  for (let i = 0; i < samples; i++) {
    file[44 + i] = 128 + Math.round(60 * Math.sin(i / 5))
  }
  return file
}
