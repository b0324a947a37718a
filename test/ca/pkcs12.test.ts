import { X509Certificate } from 'node:crypto'
import { CertificateAuthority } from '../../src/ca/authority'
import { hasOpenssl, openssl, opensslOk } from '../helpers/openssl'

let ca: CertificateAuthority

beforeAll(async () => {
  ca = await CertificateAuthority.open({ file: null })
})

describe.skipIf(!hasOpenssl)('toP12', () => {
  it('is read by openssl pkcs12 with the empty password and an SHA-256 MAC', async () => {
    const args = ['pkcs12', '-info', '-nokeys', '-passin', 'pass:']
    const result = await opensslOk(args, { input: await ca.toP12() })
    expect(result.stderr).toMatch(/MAC: sha256, Iteration \d+/)
    expect(result.stderr).toContain('Certificate bag')
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(result.stdout)
    expect(new X509Certificate(pem?.[0] ?? '').fingerprint256).toBe(ca.fingerprint256)
  })

  it('holds no private key', async () => {
    const info = await opensslOk(['pkcs12', '-info', '-nodes', '-passin', 'pass:'], {
      input: await ca.toP12(),
    })
    expect(info.stderr).not.toMatch(/Shrouded Keybag|Key bag/)
    expect(info.stdout).not.toContain('PRIVATE KEY')
    const keys = await opensslOk(['pkcs12', '-nocerts', '-nodes', '-passin', 'pass:'], {
      input: await ca.toP12(),
    })
    expect(keys.stdout).toBe('')
  })

  it('fails the MAC check under a wrong password', async () => {
    const result = await openssl(['pkcs12', '-info', '-nokeys', '-passin', 'pass:wrong'], {
      input: await ca.toP12(),
    })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/mac verify/i)
  })

  it('returns a copy each time', async () => {
    const first = await ca.toP12()
    first.fill(0)
    expect((await ca.toP12()).some((byte) => byte !== 0)).toBe(true)
  })
})
