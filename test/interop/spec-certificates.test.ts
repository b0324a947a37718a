/**
 * SPEC "Certificates", read where a client reads them: the chain `openssl s_client -showcerts`
 * gets through the proxy, each certificate printed by `openssl x509 -text`. The wildcard rule
 * (parent domain, never a public suffix, off with `useWildcardCerts: false`), the IP SANs, the
 * host certificate's fields and the CA sent in the chain.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { echoApp } from '../helpers/apps'
import { hasOpenssl, openssl, x509Text } from '../helpers/openssl'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let wildcards: RunningProxy
let exact: RunningProxy
let caFile: string
beforeAll(async () => {
  wildcards = await startProxy(echoApp())
  exact = await startProxy(echoApp(), { useWildcardCerts: false })
  caFile = join(mkdtempSync(join(tmpdir(), 'wsgiprox-spec-certs-')), 'ca.pem')
  writeFileSync(caFile, wildcards.caPem)
})
afterAll(async () => {
  await wildcards.close()
  await exact.close()
})

/**
 * The certificates, PEM, that `openssl s_client` receives after a CONNECT to `connect` through
 * `proxy`, naming `servername` in SNI (none when it is undefined), verified against the CA file.
 */
async function chainThrough(proxy: RunningProxy, connect: string, servername?: string) {
  const sni = servername === undefined ? ['-noservername'] : ['-servername', servername]
  const { code, stdout, stderr } = await openssl(
    [
      's_client',
      '-proxy',
      `127.0.0.1:${proxy.port}`,
      '-connect',
      connect,
      ...sni,
      '-CAfile',
      caFile,
      '-verify_return_error',
      '-showcerts',
    ],
    { input: '' }
  )
  expect(code, stderr).toBe(0)
  return stdout.match(/-----BEGIN CERTIFICATE-----[^]+?-----END CERTIFICATE-----\n/g) ?? []
}

/** The Subject Alternative Name line of `openssl x509 -text`. */
const sanOf = (text: string) => /Subject Alternative Name:.*\n\s*(.*)\n/.exec(text)?.[1]

describe.skipIf(!hasOpenssl)('host certificates seen through the proxy', () => {
  it.each([
    ['a.b.example.com:443', 'a.b.example.com', 'DNS:a.b.example.com, DNS:*.b.example.com'],
    // example.co.uk's parent is a public suffix: no *.co.uk, whatever the setting.
    ['x.co.uk:443', 'x.co.uk', 'DNS:x.co.uk'],
    ['127.0.0.9:8443', undefined, 'IP Address:127.0.0.9'],
  ])('CONNECT %s (SNI %s) gets SAN %s by default', async (connect, servername, san) => {
    const [leaf] = await chainThrough(wildcards, connect, servername)
    expect(sanOf(await x509Text(leaf ?? ''))).toBe(san)
  })

  it('gets the exact name only with useWildcardCerts: false', async () => {
    const [leaf] = await chainThrough(exact, 'a.b.example.com:443', 'a.b.example.com')
    expect(sanOf(await x509Text(leaf ?? ''))).toBe('DNS:a.b.example.com')
  })

  it('uses the SNI name, not the CONNECT address, for the certificate', async () => {
    const [leaf] = await chainThrough(wildcards, '127.0.0.9:443', 'sni.example.org')
    expect(sanOf(await x509Text(leaf ?? ''))).toBe('DNS:sni.example.org, DNS:*.example.org')
  })

  it('sends the CA after the host certificate, and carries the fields the SPEC lists', async () => {
    const chain = await chainThrough(wildcards, 'fields.example.com:443', 'fields.example.com')
    expect(chain).toHaveLength(2)
    expect(chain[1]).toBe(wildcards.caPem.replace(/\r\n/g, '\n'))
    const leaf = await x509Text(chain[0] ?? '')
    const ca = await x509Text(wildcards.caPem)
    expect(leaf).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/)
    expect(leaf).toMatch(/Signature Algorithm: (ecdsa-with-SHA256|sha256WithRSAEncryption)/)
    const caKeyId = /Subject Key Identifier:\s*\n\s*(\S+)/.exec(ca)?.[1]
    expect(caKeyId).toBeDefined()
    expect(/Authority Key Identifier:\s*\n\s*(?:keyid:)?(\S+)/.exec(leaf)?.[1]).toBe(caKeyId)
    const serial = /Serial Number:\s*\n?\s*(\S+)/.exec(leaf)?.[1] ?? ''
    expect(serial).not.toMatch(/\(Negative\)|^-/)
    const notBefore = Date.parse(/Not Before: (.*)\n/.exec(leaf)?.[1] ?? '')
    const notAfter = Date.parse(/Not After : (.*)\n/.exec(leaf)?.[1] ?? '')
    const hour = 3_600_000
    // One hour in the past, give or take the test's own seconds.
    expect(Math.abs(Date.now() - hour - notBefore)).toBeLessThan(60_000)
    expect(notAfter - notBefore).toBeLessThanOrEqual(199 * 24 * hour)
  })

  it('sends a CA with critical CA:TRUE and critical keyCertSign, cRLSign', async () => {
    const ca = await x509Text(wildcards.caPem)
    expect(ca).toMatch(/Basic Constraints: critical\n\s*CA:TRUE\n/)
    expect(ca).toMatch(/Key Usage: critical\n\s*Certificate Sign, CRL Sign\n/)
    expect(ca).toMatch(/Subject: CN ?= ?wsgiprox https proxy CA\n/)
  })
})
