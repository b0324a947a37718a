import { createDemoApp } from '../src/cli/demo-app'

const app = createDemoApp({ prefix: '/demo/', downloadHost: 'wsgiprox' })
const proxied = { 'x-wsgiprox-proxy-host': 'wsgiprox' }

describe('demo app', () => {
  it.each([
    [
      'a translated request',
      'http://example.com/demo/https://example.com/a?b=1',
      proxied,
      { route: 'translated', original: 'https://example.com/a?b=1' },
    ],
    [
      'a request to a proxy host',
      'https://wsgiprox/x?y',
      proxied,
      { route: 'proxy-host', original: 'https://wsgiprox/x?y' },
    ],
    [
      'a direct request',
      'http://127.0.0.1:8080/direct',
      {},
      { route: 'direct', original: '/direct' },
    ],
  ])('tells the original URL of %s', async (_, url, headers, expected) => {
    const response = await app.request(url, {
      headers: { ...headers, accept: 'application/json' },
    })
    expect(await response.json()).toMatchObject(expected)
  })

  it('shows the original URL and the translated path side by side, escaped', async () => {
    const response = await app.request('http://example.com/demo/https://example.com/<b>', {
      headers: proxied,
    })
    const page = await response.text()
    expect(page).toMatch(
      /<dt>You asked for<\/dt>\s*<dd id="original">https:\/\/example\.com\/%3Cb%3E<\/dd>[\s\S]*<dt>The app received<\/dt>\s*<dd id="url">\/demo\/https:\/\/example\.com\/%3Cb%3E<\/dd>/
    )
    expect(page).toContain('The proxy put the prefix /demo/ before the full URL')
    expect(page).toContain('href="http://wsgiprox/download/"')
  })

  it('escapes what the client sent', async () => {
    const response = await app.request('http://example.com/x', {
      headers: { ...proxied, 'x-evil': '<script>alert(1)</script>' },
    })
    const page = await response.text()
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).not.toContain('<script>alert(1)')
  })
})
