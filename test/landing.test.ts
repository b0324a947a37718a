import { CertificateAuthority } from '../src/ca/authority'
import { CA_FILES } from '../src/pages/landing-steps'
import { echoApp } from './helpers/apps'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** The text of the element with `id` in `page` (no nested tags). */
function textOf(page: string, id: string): string | undefined {
  return new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page)?.[1]?.trim()
}

describe('landing page', () => {
  it('shows the CA name, fingerprint and validity, and links the three downloads', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://wsgiprox/download/')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/html; charset=UTF-8')
    expect(textOf(reply.body, 'ca-name')).toBe(running.ca.name)
    expect(textOf(reply.body, 'fingerprint')).toBe(running.ca.fingerprint256)
    expect(reply.body).toContain(`datetime="${running.ca.validFrom.toISOString()}"`)
    expect(reply.body).toContain(`datetime="${running.ca.validTo.toISOString()}"`)
    for (const kind of ['pem', 'p12', 'cer']) {
      expect(reply.body).toContain(`id="download-${kind}" href="/download/${kind}"`)
    }
    expect(reply.body).not.toMatch(/PRIVATE KEY/)
  })

  it('gives install steps for each platform and client, with the proxy it was reached on', async () => {
    running = await startProxy(echoApp())
    const { body } = await proxyGet(running.port, 'http://wsgiprox/download/')
    const ids = [...body.matchAll(/<section id="([a-z]+)"/g)].map((match) => match[1])
    expect(ids).toEqual(
      'windows macos ios android linux firefox chromium curl python node java go git'.split(' ')
    )
    const proxy = `http://127.0.0.1:${running.port}`
    for (const needle of [
      `certutil -user -addstore Root ${CA_FILES.cer}`,
      'update-ca-certificates',
      'update-ca-trust',
      'security.enterprise_roots.enabled',
      'certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n wsgiprox',
      `chromium --proxy-server=${proxy}`,
      `curl -x ${proxy} --cacert ${CA_FILES.pem} https://example.com/`,
      'CURL_CA_BUNDLE=',
      `export HTTPS_PROXY=${proxy}`,
      'REQUESTS_CA_BUNDLE=',
      'SSL_CERT_FILE=',
      'NODE_EXTRA_CA_CERTS=',
      `new ProxyAgent(&#39;${proxy}&#39;)`,
      'keytool -importcert',
      `-Dhttps.proxyPort=${running.port}`,
      `git -c http.proxy=${proxy} -c http.sslCAInfo=`,
    ]) {
      expect(body).toContain(needle)
    }
  })

  it('shows the SOCKS5 address and the PAC URL as this client reached the proxy', async () => {
    running = await startProxy(echoApp())
    const { body } = await proxyGet(running.port, 'http://wsgiprox/download/')
    const address = `127.0.0.1:${running.port}`
    expect(body).toContain(`<dd id="socks-address"><code>socks5h://${address}</code></dd>`)
    expect(body).toContain(`href="http://${address}/proxy.pac"`)
  })

  it('leaves out SOCKS5 and the PAC URL when they are off', async () => {
    running = await startProxy(echoApp(), { socks: false, pac: false })
    const { body } = await proxyGet(running.port, 'http://wsgiprox/download/')
    expect(body).toContain('id="http-proxy"')
    expect(body).not.toContain('id="socks-address"')
    expect(body).not.toContain('proxy.pac')
  })

  it('shows the proxy address inside an https tunnel too', async () => {
    running = await startProxy(echoApp())
    const tls = await httpsTunnel(running.port, 'wsgiprox:443', 'wsgiprox', running.caPem)
    const reply = await requestOver(tls, '/download/', { host: 'wsgiprox' })
    tls.destroy()
    expect(textOf(reply.body, 'fingerprint')).toBe(running.ca.fingerprint256)
    expect(reply.body).toContain(`http://127.0.0.1:${running.port}`)
  })

  it('uses placeholders when it cannot tell the proxy address', async () => {
    running = await startProxy(echoApp())
    const response = await running.proxy.fetch(new Request('http://wsgiprox/download/'))
    const body = await response.text()
    expect(body).toContain('curl -x http://&lt;proxy host&gt;:&lt;port&gt; --cacert')
  })

  it('escapes the CA name', async () => {
    const ca = await CertificateAuthority.open({ file: null, name: '<b>Evil</b> & "Co"' })
    running = await startProxy(echoApp(), { ca })
    const { body } = await proxyGet(running.port, 'http://wsgiprox/download/')
    expect(body).toContain('&lt;b&gt;Evil&lt;/b&gt; &amp; &quot;Co&quot;')
    expect(body).not.toContain('<b>Evil')
  })

  it('redirects /download to /download/', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://wsgiprox/download')
    expect(reply.status).toBe(301)
    expect(reply.headers.location).toBe('/download/')
  })

  it('names each download after its format', async () => {
    running = await startProxy(echoApp())
    for (const [kind, name] of Object.entries(CA_FILES)) {
      const reply = await proxyGet(running.port, `http://wsgiprox/download/${kind}`)
      expect(reply.headers['content-disposition']).toBe(`attachment; filename="${name}"`)
    }
  })
})

describe('trust check', () => {
  it('answers secure over https, readable from any origin', async () => {
    running = await startProxy(echoApp())
    const tls = await httpsTunnel(running.port, 'wsgiprox:443', 'wsgiprox', running.caPem)
    const reply = await requestOver(tls, '/download/check', {
      host: 'wsgiprox',
      headers: { origin: 'http://wsgiprox' },
    })
    tls.destroy()
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/json')
    expect(reply.headers['access-control-allow-origin']).toBe('*')
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(reply.body)).toEqual({
      secure: true,
      ca: running.ca.name,
      fingerprint256: running.ca.fingerprint256,
    })
  })

  it('answers not secure over plain http', async () => {
    running = await startProxy(echoApp())
    const reply = await proxyGet(running.port, 'http://wsgiprox/download/check')
    expect(JSON.parse(reply.body)).toMatchObject({ secure: false })
  })

  it('is served on a separate download host', async () => {
    running = await startProxy(echoApp(), { downloadHost: 'certs.local' })
    const page = await proxyGet(running.port, 'http://certs.local/download/')
    expect(page.body).toContain('data-check-url="https://certs.local/download/check"')
    const tls = await httpsTunnel(running.port, 'certs.local:443', 'certs.local', running.caPem)
    const reply = await requestOver(tls, '/download/check', { host: 'certs.local' })
    tls.destroy()
    expect(JSON.parse(reply.body)).toMatchObject({ secure: true })
  })
})
