import * as pkijs from 'pkijs'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'
import { hasOpenssl, openssl, opensslCa, x509Text } from '../helpers/openssl'

const DAY_MS = 86_400_000

let ca: CertificateAuthority
let dir: string
let caFile: string

beforeAll(async () => {
  ca = await CertificateAuthority.open({ file: null })
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-cert-'))
  caFile = join(dir, 'ca-cert.pem')
  await writeFile(caFile, ca.certPem)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** `openssl verify` of a host certificate against the CA alone, with strict X.509 checks. */
async function verify(certPem: string, ...extra: string[]) {
  const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, ...extra]
  return openssl(args, { input: certPem })
}

describe.skipIf(!hasOpenssl)('root certificate', () => {
  it('carries critical CA:TRUE, critical keyCertSign and cRLSign, and a subject key id', async () => {
    const text = await x509Text(ca.certPem)
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/)
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\n/)
    expect(text).toMatch(/Subject Key Identifier:\s+[0-9A-F:]{59}/)
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256')
    expect(text).toContain('Public-Key: (256 bit)')
    expect(text).toContain('ASN1 OID: prime256v1')
    expect(text).toContain('Subject: CN = wsgiprox https proxy CA')
  })

  it('is valid from an hour ago for ten years', () => {
    const cert = new X509Certificate(ca.certPem)
    const from = Date.parse(cert.validFrom)
    expect(Math.abs(Date.now() - 3_600_000 - from)).toBeLessThan(60_000)
    const to = new Date(from)
    to.setUTCFullYear(to.getUTCFullYear() + 10)
    expect(Date.parse(cert.validTo)).toBe(to.getTime())
    expect(ca.validFrom.getTime()).toBe(from)
    expect(ca.validTo.getTime()).toBe(to.getTime())
  })

  it('verifies itself as a trust anchor with strict checks', async () => {
    const result = await openssl(['verify', '-x509_strict', '-CAfile', caFile], {
      input: ca.certPem,
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })
})

describe.skipIf(!hasOpenssl)('host certificate', () => {
  it('carries SAN, serverAuth, digitalSignature, CA:FALSE and key identifiers', async () => {
    const cert = await ca.issue('a.b.example.com')
    const text = await x509Text(cert.certPem)
    expect(text).toMatch(/Subject Alternative Name:\s+DNS:a.b.example.com, DNS:\*.b.example.com\n/)
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication\n/)
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/)
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
    expect(text).toMatch(/Subject Key Identifier:\s+[0-9A-F:]{59}/)
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256')
    expect(text).toContain('ASN1 OID: prime256v1')
    expect(text).toContain('Subject: CN = *.b.example.com')
  })

  it('names the CA subject key identifier as its authority key identifier', async () => {
    const cert = await ca.issue('example.com')
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(await x509Text(ca.certPem))?.[1]
    const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(
      await x509Text(cert.certPem)
    )?.[1]
    expect(caSki).toBeDefined()
    expect(aki).toBe(caSki)
  })

  it('starts an hour in the past and spans at most 199 days', async () => {
    const cert = await ca.issue('example.com')
    const x509 = new X509Certificate(cert.certPem)
    const from = Date.parse(x509.validFrom)
    const to = Date.parse(x509.validTo)
    expect(Math.abs(Date.now() - 3_600_000 - from)).toBeLessThan(60_000)
    // BR 6.3.2 counts both ends: notAfter - notBefore + 1 s.
    expect(to - from + 1000).toBeLessThanOrEqual(199 * DAY_MS)
    expect(to - from).toBeGreaterThan(198 * DAY_MS)
    expect(cert.notBefore.getTime()).toBe(from)
    expect(cert.notAfter.getTime()).toBe(to)
  })

  it('has a random positive serial number of at least 64 bits', async () => {
    const serials = await Promise.all(
      [1, 2, 3].map(async () => new X509Certificate((await ca.issue('example.com')).certPem))
    )
    const numbers = serials.map((c) => c.serialNumber)
    expect(new Set(numbers).size).toBe(3)
    for (const serial of numbers) {
      expect(serial.length).toBeGreaterThanOrEqual(16)
      expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80)
    }
  })

  it.each([
    ['example.com', ['-verify_hostname', 'example.com']],
    ['a.b.example.com', ['-verify_hostname', 'c.b.example.com']],
    ['127.0.0.1', ['-verify_ip', '127.0.0.1']],
    ['::1', ['-verify_ip', '::1']],
    ['bücher.example', ['-verify_hostname', 'xn--bcher-kva.example']],
  ])('for %j passes openssl verify %j against the CA alone', async (host, check) => {
    const result = await verify((await ca.issue(host)).certPem, ...check)
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain(': OK')
  })

  it('fails openssl verify for a name it does not cover', async () => {
    const result = await verify(
      (await ca.issue('example.com')).certPem,
      '-verify_hostname',
      'x.org'
    )
    expect(result.code).not.toBe(0)
  })

  it('puts IDNs in punycode', async () => {
    const cert = await ca.issue('Bücher.example.com', { wildcard: false })
    expect(cert.names).toEqual(['xn--bcher-kva.example.com'])
    expect(new X509Certificate(cert.certPem).subjectAltName).toBe('DNS:xn--bcher-kva.example.com')
  })

  it('gives IP addresses an IP SAN and never a wildcard', async () => {
    const v4 = new X509Certificate((await ca.issue('127.0.0.1')).certPem)
    const v6 = new X509Certificate((await ca.issue('[::1]')).certPem)
    expect(v4.subjectAltName).toBe('IP Address:127.0.0.1')
    expect(v6.subjectAltName).toBe('IP Address:0:0:0:0:0:0:0:1')
    expect(v6.checkIP('::1')).toBe('::1')
  })

  it('leaves out a common name over 64 characters and marks the SAN critical', async () => {
    const host = `${'a'.repeat(40)}.${'b'.repeat(40)}.example`
    const cert = await ca.issue(host, { wildcard: false })
    const text = await x509Text(cert.certPem)
    expect(text).toMatch(/Subject: *\n/)
    expect(text).toMatch(/Subject Alternative Name: critical\s+DNS:a{40}\.b{40}\.example/)
    expect((await verify(cert.certPem, '-verify_hostname', host)).code).toBe(0)
  })

  it('never outlives a root that expires sooner', async () => {
    const caDir = await mkdtemp(join(tmpdir(), 'wsgiprox-short-'))
    try {
      const made = await opensslCa(caDir)
      await writeFile(join(caDir, 'ca.pem'), made.keyPem + made.certPem)
      const shortCa = await CertificateAuthority.open({ file: join(caDir, 'ca.pem') })
      const cert = await shortCa.issue('example.com')
      expect(cert.notAfter.getTime()).toBe(shortCa.validTo.getTime())
    } finally {
      await rm(caDir, { recursive: true, force: true })
    }
  })
})

describe('host certificate encoding', () => {
  // The parts every host shares are encoded once per CA and spliced in: pkijs reading a
  // certificate and writing it again must give the same bytes, or the splice broke DER.
  it.each([
    ['a DNS name with a wildcard', 'a.b.example.com'],
    ['a name under a public suffix', 'x.co.uk'],
    ['an IPv4 address', '192.0.2.7'],
    ['an IPv6 address', '[2001:db8::1]'],
    ['a name too long for a common name', `${'l'.repeat(60)}.example.com`],
  ])('is canonical DER signed by the CA for %s', async (_label, host) => {
    const cert = await ca.issue(host)
    const der = new X509Certificate(cert.certPem).raw
    const reencoded = pkijs.Certificate.fromBER(der).toSchema(true).toBER()
    expect(Buffer.from(reencoded).equals(der)).toBe(true)
    expect(
      new X509Certificate(cert.certPem).verify(new X509Certificate(ca.certPem).publicKey)
    ).toBe(true)
  })
})
