import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-pem-text-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('CA certificate text', () => {
  // Found by the ca-pem fuzz target: base64 decoding skips characters that are not base64, so
  // the certificate loaded while its text, served at /download/pem, was one OpenSSL refuses.
  it('serves the certificate it checked when the file has stray bytes in its base64', async () => {
    const file = join(dir, 'ca.pem')
    const original = await CertificateAuthority.open({ file })
    const text = await readFile(file, 'utf8')
    const at = text.indexOf('-----BEGIN CERTIFICATE-----') + 40
    await writeFile(join(dir, 'stray.pem'), `${text.slice(0, at)}\0\0!${text.slice(at)}`)
    const ca = await CertificateAuthority.open({ file: join(dir, 'stray.pem') })
    expect(new X509Certificate(ca.certPem).fingerprint256).toBe(original.fingerprint256)
    expect(ca.certPem).toBe(original.certPem)
  })
})

describe('CA certificate bytes', () => {
  // Found by the ca-pem fuzz target: X509Certificate reads a certificate and ignores bytes after
  // it, which then went on into the DER and PKCS#12 exports.
  it('exports the certificate alone when bytes follow it in the file', async () => {
    const file = join(dir, 'ca.pem')
    const original = await CertificateAuthority.open({ file })
    const text = await readFile(file, 'utf8')
    const block =
      /-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----\n/.exec(text)?.[0] ?? ''
    const padded = Buffer.concat([Buffer.from(original.certDer), Buffer.from([0xd8, 0x90, 0xee])])
    const pem = `-----BEGIN CERTIFICATE-----\n${padded.toString('base64')}\n-----END CERTIFICATE-----\n`
    await writeFile(join(dir, 'padded.pem'), text.replace(block, pem))
    const ca = await CertificateAuthority.open({ file: join(dir, 'padded.pem') })
    expect(Buffer.from(ca.certDer).equals(Buffer.from(original.certDer))).toBe(true)
    expect(ca.certPem).toBe(original.certPem)
  })
})
