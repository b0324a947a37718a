import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { CertificateAuthority } from '../../src/ca/authority'
import { CaFileError, OptionsError } from '../../src/errors'
import { hasOpenssl, openssl, opensslCa, opensslFingerprint256 } from '../helpers/openssl'
import { within } from '../helpers/within'

const ROOT = resolve(import.meta.dirname, '../..')

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-store-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('CA file creation', () => {
  it('creates the file and its folders, mode 0600, key then certificate', async () => {
    const file = join(dir, 'a', 'b', 'ca.pem')
    const ca = await CertificateAuthority.open({ file })
    expect(ca.file).toBe(file)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const text = await readFile(file, 'utf8')
    expect(text).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----BEGIN CERTIFICATE-----\n/)
    expect(text.endsWith(ca.certPem)).toBe(true)
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['ca.pem'])
  })

  it('loads the same CA on the next open and leaves the file as it was', async () => {
    const file = join(dir, 'ca.pem')
    const first = await CertificateAuthority.open({ file })
    const before = await readFile(file)
    const second = await CertificateAuthority.open({ file, name: 'another name' })
    expect(second.fingerprint256).toBe(first.fingerprint256)
    expect(second.name).toBe('wsgiprox https proxy CA')
    expect((await readFile(file)).equals(before)).toBe(true)
  })

  it('ends with one CA when several processes create it at once', { timeout: 30_000 }, async () => {
    const file = join(dir, 'race', 'ca.pem')
    const script = join(dir, 'open-ca.mts')
    const authority = pathToFileURL(join(ROOT, 'src/ca/authority.ts')).href
    await writeFile(
      script,
      `import { CertificateAuthority } from ${JSON.stringify(authority)}
process.stdout.write('ready\\n')
process.stdin.once('data', () => {
  CertificateAuthority.open({ file: process.argv[2] }).then(
    (ca) => process.stdout.write(ca.fingerprint256 + '\\n'),
    (error) => process.stdout.write('error ' + String(error) + '\\n'),
  ).finally(() => process.stdin.destroy())
})
`
    )
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', script, file], { cwd: ROOT })
    )
    const lines = children.map((child) =>
      createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    )
    const nextLine = async (line: (typeof lines)[number]) => String((await line.next()).value)
    // A barrier instead of a sleep: every child has loaded the module before any opens the CA.
    for (const line of lines) {
      expect(await nextLine(line)).toBe('ready')
    }
    for (const child of children) {
      child.stdin.write('go\n')
    }
    const fingerprints = await Promise.all(lines.map(nextLine))
    const exits = children.filter((child) => child.exitCode === null)
    await Promise.all(exits.map((child) => once(child, 'close')))
    expect(fingerprints[0]).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(new Set(fingerprints)).toEqual(new Set([fingerprints[0]]))
    expect((await CertificateAuthority.open({ file })).fingerprint256).toBe(fingerprints[0])
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readdir(join(dir, 'race'))).toEqual(['ca.pem'])
  })

  it('keeps the CA in memory with file: null', async () => {
    const ca = await CertificateAuthority.open({ file: null })
    expect(ca.file).toBeNull()
    expect(await readdir(dir)).toEqual([])
  })
})

describe.skipIf(!hasOpenssl)('certauth CA files', () => {
  it.each([
    ['PKCS#8', false, 'PRIVATE KEY'],
    ['PKCS#1', true, 'RSA PRIVATE KEY'],
  ])(
    'load unchanged with a %s key and issue certificates openssl verifies',
    async (_, traditional, label) => {
      const made = await opensslCa(dir, { traditional, name: 'certauth CA' })
      expect(made.keyPem).toContain(`-----BEGIN ${label}-----`)
      const file = join(dir, 'ca.pem')
      await writeFile(file, made.keyPem + made.certPem, { mode: 0o600 })
      const ca = await CertificateAuthority.open({ file })
      expect(ca.fingerprint256).toBe(await opensslFingerprint256(made.certPem))
      expect(ca.name).toBe('certauth CA')
      expect(await readFile(file, 'utf8')).toBe(made.keyPem + made.certPem)
      const host = await ca.issue('www.example.com')
      const args = ['verify', '-x509_strict', '-CAfile', join(dir, 'cert.pem')]
      const result = await openssl([...args, '-verify_hostname', 'www.example.com'], {
        input: host.certPem,
      })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    }
  )

  it('loads an ECDSA CA key too', async () => {
    const made = await opensslCa(dir, { key: 'ec' })
    const file = join(dir, 'ca.pem')
    await writeFile(file, made.keyPem + made.certPem)
    const ca = await CertificateAuthority.open({ file })
    const result = await openssl(['verify', '-CAfile', join(dir, 'cert.pem')], {
      input: (await ca.issue('example.com')).certPem,
    })
    expect(result.code).toBe(0)
  })
})

describe.skipIf(!hasOpenssl)('CA file refusals', () => {
  async function refusal(content: string | null, expected: RegExp, name = 'ca.pem') {
    const file = join(dir, name)
    if (content !== null) {
      await writeFile(file, content)
    }
    const error = await CertificateAuthority.open({ file }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CaFileError)
    expect((error as CaFileError).file).toBe(file)
    expect((error as CaFileError).message).toContain(file)
    expect((error as CaFileError).message).toMatch(expected)
    if (content !== null) {
      expect(await readFile(file, 'utf8')).toBe(content)
    }
  }

  it('refuses a corrupt file and leaves it as it is', async () => {
    await refusal('not a CA at all\n', /holds no private key/)
  })

  it('refuses a key that cannot be parsed', async () => {
    const made = await opensslCa(dir)
    const badKey = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'
    await refusal(badKey + made.certPem, /private key cannot be used/)
  })

  it('refuses a certificate that cannot be parsed', async () => {
    const made = await opensslCa(dir)
    const badCert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
    await refusal(made.keyPem + badCert, /certificate cannot be parsed/)
  })

  it('refuses a file with a key and no certificate', async () => {
    await refusal((await opensslCa(dir)).keyPem, /holds no certificate/)
  })

  it('refuses a key that does not match the certificate', async () => {
    const one = await opensslCa(dir)
    const other = await opensslCa(dir)
    await refusal(one.keyPem + other.certPem, /does not match/)
  })

  it('refuses a certificate that is not a CA', async () => {
    const ca = await CertificateAuthority.open({ file: null })
    const leaf = await ca.issue('example.com', { freshKey: true })
    await refusal(leaf.keyPem + leaf.certPem, /not a CA certificate/)
  })

  it('refuses a folder in place of the file', async () => {
    await mkdir(join(dir, 'ca.pem'))
    await refusal(null, /is a folder/)
  })

  it('refuses a file whose folder cannot be created', async () => {
    await writeFile(join(dir, 'plain-file'), '')
    await refusal(null, /cannot create its folder/, join('plain-file', 'ca.pem'))
  })

  // Linux's /proc answers ENOENT to a new folder in it, where Node's recursive mkdir never returns.
  it.runIf(existsSync('/proc/self'))(
    'refuses a file under /proc at once, and a certsDir there, instead of waiting for ever',
    async () => {
      const file = '/proc/wsgiprox-test/ca/ca.pem'
      const error = await within(
        CertificateAuthority.open({ file }).catch((e: unknown) => e),
        'opening a CA file under /proc never settled'
      )
      expect(error).toBeInstanceOf(CaFileError)
      expect((error as CaFileError).message).toMatch(/cannot create its folder.*ENOENT/)
      const certsDir = await within(
        CertificateAuthority.open({ file: null, certsDir: '/proc/wsgiprox-test/certs' }).catch(
          (e: unknown) => e
        ),
        'opening a certsDir under /proc never settled'
      )
      expect(certsDir).toBeInstanceOf(OptionsError)
      expect((certsDir as Error).message).toMatch(
        /certsDir \/proc\/wsgiprox-test\/certs cannot be created/
      )
    }
  )
})
