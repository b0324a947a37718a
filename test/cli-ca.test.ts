import { execFile } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { runCa } from '../src/cli/ca'
import { hasOpenssl, openssl } from './helpers/openssl'
import { within } from './helpers/within'

const run = promisify(execFile)

let dir: string
let caFile: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-cli-ca-'))
  caFile = join(dir, 'ca', 'ca.pem')
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `wsgiprox ca ...argv` in-process; returns the exit code and what it wrote. */
async function ca(...argv: string[]) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (chunk: Buffer) => out.push(Buffer.from(chunk)))
  stderr.on('data', (chunk: Buffer) => err.push(Buffer.from(chunk)))
  const code = await runCa(argv, { stdout, stderr })
  const bytes = Buffer.concat(out)
  return { code, stdout: bytes.toString(), bytes, stderr: Buffer.concat(err).toString() }
}

describe('wsgiprox ca init', () => {
  it('creates the CA and prints its file, fingerprint and download page', async () => {
    const result = await ca('init', '--ca-file', caFile, '--ca-name', 'Rig CA')
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const cert = new X509Certificate(await readFile(caFile))
    expect(cert.subject).toBe('CN=Rig CA')
    expect(result.stdout).toContain('Created CA "Rig CA"')
    expect(result.stdout).toContain(`CA file: ${caFile}`)
    expect(result.stdout).toContain(`SHA-256 fingerprint: ${cert.fingerprint256}`)
    expect(result.stdout).toContain('http://wsgiprox/download/')
    expect((await stat(caFile)).mode & 0o777).toBe(0o600)
  })

  it('loads an existing CA and keeps it', async () => {
    await ca('init', '--ca-file', caFile)
    const before = await readFile(caFile, 'utf8')
    const result = await ca('init', '--ca-file', caFile, '--ca-name', 'ignored')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Loaded CA "wsgiprox https proxy CA"')
    expect(await readFile(caFile, 'utf8')).toBe(before)
  })
})

describe('wsgiprox ca issue', () => {
  beforeEach(async () => {
    await ca('init', '--ca-file', caFile)
  })

  it('writes HOST.pem with a fresh key and a wildcard certificate', async () => {
    const out = join(dir, 'out')
    const result = await ca('issue', 'a.b.example.com', '--ca-file', caFile, '--out', out)
    const file = join(out, 'a.b.example.com.pem')
    expect(result).toMatchObject({ code: 0, stdout: `${file}\n`, stderr: '' })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const pem = await readFile(file, 'utf8')
    const cert = new X509Certificate(pem)
    expect(cert.subjectAltName).toBe('DNS:a.b.example.com, DNS:*.b.example.com')
    expect(cert.checkPrivateKey(createPrivateKey(pem))).toBe(true)
    const second = await ca(
      'issue',
      'a.b.example.com',
      '--ca-file',
      caFile,
      '--out',
      join(dir, 'o2')
    )
    expect(second.code).toBe(0)
    const other = await readFile(join(dir, 'o2', 'a.b.example.com.pem'), 'utf8')
    expect(/-----BEGIN PRIVATE KEY-----[^-]+/.exec(other)?.[0]).not.toBe(
      /-----BEGIN PRIVATE KEY-----[^-]+/.exec(pem)?.[0]
    )
  })

  it('issues for the exact host with --no-wildcard', async () => {
    const out = join(dir, 'out')
    const args = ['issue', 'a.b.example.com', '--no-wildcard', '--ca-file', caFile, '--out', out]
    expect((await ca(...args)).code).toBe(0)
    const cert = new X509Certificate(await readFile(join(out, 'a.b.example.com.pem')))
    expect(cert.subjectAltName).toBe('DNS:a.b.example.com')
  })

  it.skipIf(!hasOpenssl)('writes a certificate openssl verifies against the CA', async () => {
    const out = join(dir, 'out')
    expect((await ca('issue', '127.0.0.1', '--ca-file', caFile, '--out', out)).code).toBe(0)
    const exported = join(dir, 'ca-cert.pem')
    expect((await ca('export', '--ca-file', caFile, '--out', exported)).code).toBe(0)
    const result = await openssl([
      'verify',
      '-x509_strict',
      '-CAfile',
      exported,
      '-verify_ip',
      '127.0.0.1',
      join(out, '127.0.0.1.pem'),
    ])
    expect(result.stdout).toContain(': OK')
  })

  it('fails with one line and code 1 for an invalid host', async () => {
    const result = await ca('issue', 'exa_mple..com', '--ca-file', caFile, '--out', dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^wsgiprox: invalid host "exa_mple\.\.com": [^\n]+\n$/)
  })

  it('fails with one line naming the file when --out is under a file', async () => {
    const result = await ca('issue', 'example.com', '--ca-file', caFile, '--out', join(caFile, 'x'))
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `wsgiprox: cannot write ${join(caFile, 'x', 'example.com.pem')}: a part of its path is a file, not a folder\n`
    )
  })

  it('fails with code 2 without a host', async () => {
    const result = await ca('issue', '--ca-file', caFile)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^wsgiprox: ca issue needs exactly one HOST[^\n]+\n$/)
  })
})

describe('wsgiprox ca export', () => {
  beforeEach(async () => {
    await ca('init', '--ca-file', caFile)
  })

  it('writes the PEM certificate, without the key, to stdout', async () => {
    const result = await ca('export', '--ca-file', caFile)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n$/)
    expect((await readFile(caFile, 'utf8')).endsWith(result.stdout)).toBe(true)
  })

  it('writes DER to a file with --format der --out', async () => {
    const out = join(dir, 'ca.cer')
    const result = await ca('export', '--ca-file', caFile, '--format', 'der', '--out', out)
    expect(result.code).toBe(0)
    const pem = await readFile(caFile, 'utf8')
    expect(new X509Certificate(await readFile(out)).fingerprint256).toBe(
      new X509Certificate(pem).fingerprint256
    )
  })

  it.skipIf(!hasOpenssl)('writes PKCS#12 that openssl reads with --format p12', async () => {
    const result = await ca('export', '--ca-file', caFile, '--format', 'p12')
    expect(result.code).toBe(0)
    const read = await openssl(['pkcs12', '-info', '-nokeys', '-passin', 'pass:'], {
      input: result.bytes,
    })
    expect(read.code).toBe(0)
    expect(read.stdout).toContain('-----BEGIN CERTIFICATE-----')
    expect(read.stdout).not.toContain('PRIVATE KEY')
  })

  it('fails with one line naming the file when --out is in a missing folder', async () => {
    const out = join(dir, 'no', 'such', 'ca.pem')
    const result = await ca('export', '--ca-file', caFile, '--out', out)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `wsgiprox: cannot write ${out}: its folder ${join(dir, 'no', 'such')} does not exist\n`
    )
  })

  it('fails with one line at once when --out is a FIFO nobody reads, and writes to one that is read', async () => {
    const fifo = join(dir, 'ca.fifo')
    await run('mkfifo', [fifo])
    try {
      const result = await within(ca('export', '--ca-file', caFile, '--out', fifo), 'export hung')
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `wsgiprox: cannot write ${fifo}: it is a FIFO nobody reads, a socket or a missing device\n`
      )
    } finally {
      // Lets a writer blocked on the FIFO go (without the fix), so the worker is not left stuck.
      await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK).then((handle) => handle.close())
    }
    const reader = run('cat', [fifo])
    // cat opens the FIFO for reading; until then there is no reader to write to.
    let result: Awaited<ReturnType<typeof ca>> | undefined
    for (let i = 0; i < 50 && result?.code !== 0; i++) {
      await sleep(20)
      result = await ca('export', '--ca-file', caFile, '--out', fifo)
    }
    expect(result?.code).toBe(0)
    expect((await reader).stdout).toContain('-----BEGIN CERTIFICATE-----')
  })

  it('fails with code 2 for an unknown format', async () => {
    const result = await ca('export', '--ca-file', caFile, '--format', 'jks')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^wsgiprox: --format must be pem, p12 or der[^\n]+\n$/)
  })

  it('fails with code 1, naming the file, when the CA file does not exist', async () => {
    const missing = join(dir, 'missing.pem')
    const result = await ca('export', '--ca-file', missing)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `wsgiprox: CA file ${missing}: does not exist; create it with \`wsgiprox ca init\`\n`
    )
  })

  it('fails with code 1 when the CA file is a folder', async () => {
    await mkdir(join(dir, 'folder'))
    const result = await ca('export', '--ca-file', join(dir, 'folder'))
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^wsgiprox: CA file \S+folder: is a folder, not a file\n$/)
  })
})

describe('wsgiprox ca', () => {
  it.each([
    [[], /needs a subcommand/],
    [['frobnicate'], /unknown ca subcommand "frobnicate"/],
    [['init', '--bogus'], /Unknown option '--bogus'/],
    [['init', '--ca-file'], /--ca-file/],
    [['issue', 'a.com', '--wildcard', '--no-wildcard'], /exclude each other/],
  ])('fails %j with one line and code 2', async (argv, message) => {
    const result = await ca(...argv)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^wsgiprox: [^\n]+\(see wsgiprox ca --help\)\n$/)
    expect(result.stderr).toMatch(message)
  })

  it('prints usage with --help, as the other commands do, each flag with what it takes', async () => {
    const result = await ca('--help')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^usage: wsgiprox ca init /)
    expect(result.stdout).toContain('wsgiprox ca issue  HOST')
    const flags = result.stdout.split('\n').filter((line) => /^ {2}--/.test(line))
    expect(flags.map((line) => line.trim().split(/ {2,}/)[0])).toEqual([
      '--ca-file FILE',
      '--ca-name NAME',
      '--wildcard',
      '--out DIR|FILE',
      '--format FORMAT',
    ])
  })
})
