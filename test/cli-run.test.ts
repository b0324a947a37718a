/**
 * `wsgiprox [flags] -- COMMAND` and `wsgiprox env`, run as a user runs them: the command's
 * output, exit code and signals, and the environment it was given.
 */
import { execFile, execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { CertificateAuthority } from '../src/ca/authority'
import { main } from '../src/cli/index'
import { canListenOnIpv6 } from './helpers/ipv6'
import { runCli, withoutEnvProxyWarning } from './helpers/spawn'
import { readText } from './helpers/streams'
import { within } from './helpers/within'

const hasIpv6 = await canListenOnIpv6()

describe('wsgiprox -- COMMAND', { timeout: 30_000 }, () => {
  it('runs the command with its env, and exits with its code', async () => {
    const script =
      'test -n "$HTTPS_PROXY" && test "$NODE_USE_ENV_PROXY" = 1 && cat "$NODE_EXTRA_CA_CERTS"; exit 3'
    const { code, stdout } = await runCli(['--', 'sh', '-c', script]).exited
    expect(code).toBe(3)
    expect(stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/)
  })

  it('hands the certificate of a --ca-file, never the file with its key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-run-ca-'))
    const caFile = join(dir, 'ca.pem')
    const ca = await CertificateAuthority.open({ file: caFile })
    const { code, stdout } = await runCli([
      '--ca-file',
      caFile,
      '--',
      'sh',
      '-c',
      'echo "$SSL_CERT_FILE"; cat "$SSL_CERT_FILE"',
    ]).exited
    expect(code).toBe(0)
    const [file, ...pem] = stdout.split('\n')
    expect(file).not.toBe(caFile)
    expect(pem.join('\n')).toBe(ca.certPem)
  })

  it('exits with 128 + the signal number when a signal ends the command', async () => {
    expect((await runCli(['--', 'sh', '-c', 'kill -TERM $$']).exited).code).toBe(143)
  })

  it('forwards SIGTERM to the command, which decides how to end', async () => {
    const run = runCli([
      '--',
      'sh',
      '-c',
      'trap "echo bye; exit 7" TERM; echo ready; while :; do sleep 0.05; done',
    ])
    while (!run.stdout().includes('ready')) {
      await once(run.child.stdout as NodeJS.ReadableStream, 'data')
    }
    run.child.kill('SIGTERM')
    const { code, stdout } = await run.exited
    expect({ code, stdout }).toEqual({ code: 7, stdout: 'ready\nbye\n' })
    expect(code).toBe(7)
  })

  it.skipIf(!hasIpv6)('gives the command a proxy URL it can use for --host ::1', async () => {
    // The child reaches a site through HTTP_PROXY, as any client reading the variable would.
    const script = `
      const proxy = new URL(process.env.HTTP_PROXY)
      require('node:http').get(
        { host: proxy.hostname.replace(/^\\[|\\]$/g, ''), port: proxy.port, path: 'http://example.com/a', agent: false },
        (response) => process.stdout.write(proxy.host + ' ' + response.statusCode)
      )`
    const { code, stdout, stderr } = await runCli([
      '--host',
      '::1',
      '--',
      process.execPath,
      '-e',
      script,
    ]).exited
    expect({ code, stderr: withoutEnvProxyWarning(stderr) }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(/^\[::1\]:\d+ 200$/)
  })

  it.each([
    ['when the command ends', [], ['--', 'sh', '-c', 'exit 4'], 4],
    ['when its port is in use', ['--port', 'busy'], ['--', 'true'], 1],
    ['when its port is in use, with no command', ['--port', 'busy'], [], 1],
  ])('exits %s, though the --app module still holds a timer', async (_, flags, command, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-run-app-'))
    const app = join(dir, 'fakes.mjs')
    // A fake that ticks for ever (an event stream, a cache sweep) must not keep wsgiprox up.
    writeFileSync(app, "setInterval(() => {}, 1000)\nexport default () => new Response('fake')\n")
    const busy = createServer().listen(0, '127.0.0.1')
    await once(busy, 'listening')
    const port = String((busy.address() as AddressInfo).port)
    const args = flags.map((flag) => (flag === 'busy' ? port : flag))
    const run = runCli(['--app', app, ...args, ...command])
    try {
      const ended = await within(run.exited, 'wsgiprox is still running', 20_000)
      expect(ended.code).toBe(code)
    } finally {
      run.child.kill()
      busy.close()
    }
  })

  it('exits 127 with one line for a command that does not exist', async () => {
    const { code, stderr } = await runCli(['--', 'no-such-command-here']).exited
    expect(code).toBe(127)
    expect(stderr).toBe('wsgiprox: cannot run no-such-command-here: no such command\n')
  })

  it('refuses -- with no command', async () => {
    const stderr = new PassThrough()
    expect(await main(['--'], { stdout: new PassThrough(), stderr })).toBe(2)
    expect(readText(stderr)).toMatch(/^wsgiprox: nothing to run after --/)
  })
})

describe('wsgiprox env', () => {
  it('prints export lines for the port and writes the CA certificate alone beside the CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-env-'))
    const caFile = join(dir, 'my-ca.pem')
    const ca = await CertificateAuthority.open({ file: caFile })
    const stdout = new PassThrough()
    expect(
      await main(['env', '--port', '9123', '--ca-file', caFile], {
        stdout,
        stderr: new PassThrough(),
      })
    ).toBe(0)
    const certFile = join(dir, 'my-ca-cert.pem')
    const lines = readText(stdout).split('\n')
    expect(lines).toContain('export HTTPS_PROXY=http://127.0.0.1:9123')
    expect(lines).toContain('export NODE_USE_ENV_PROXY=1')
    expect(lines).toContain(`export NODE_EXTRA_CA_CERTS=${certFile}`)
    expect(readFileSync(certFile, 'utf8')).toBe(ca.certPem)
    // The lines are what a shell evaluates.
    const { stdout: shell } = await promisify(execFile)('sh', [
      '-c',
      `${lines.join('\n')}\necho "$NO_PROXY|$REQUESTS_CA_BUNDLE"`,
    ])
    expect(shell).toBe(`localhost,127.0.0.1,::1,[::1]|${certFile}\n`)
  })

  it('replaces a link planted at the certificate path instead of writing through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-env-link-'))
    const caFile = join(dir, 'ca.pem')
    const ca = await CertificateAuthority.open({ file: caFile })
    const key = readFileSync(caFile, 'utf8')
    // A link to the CA file itself: written through, the key would be lost for the certificate.
    const certFile = join(dir, 'ca-cert.pem')
    symlinkSync(caFile, certFile)
    const io = { stdout: new PassThrough(), stderr: new PassThrough() }
    expect(await main(['env', '--ca-file', caFile], io)).toBe(0)
    expect(readFileSync(caFile, 'utf8')).toBe(key)
    expect(lstatSync(certFile).isSymbolicLink()).toBe(false)
    expect(readFileSync(certFile, 'utf8')).toBe(ca.certPem)
  })

  it('replaces a FIFO planted at the certificate path at once, without waiting for a reader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-env-fifo-'))
    const caFile = join(dir, 'ca.pem')
    const ca = await CertificateAuthority.open({ file: caFile })
    const certFile = join(dir, 'ca-cert.pem')
    execFileSync('mkfifo', [certFile])
    const io = { stdout: new PassThrough(), stderr: new PassThrough() }
    const running = main(['env', '--ca-file', caFile], io)
    try {
      expect(await within(running, 'wsgiprox env did not finish')).toBe(0)
    } finally {
      if (lstatSync(certFile).isFIFO()) {
        // Let a write stuck on the FIFO end, so that it holds no thread past this test.
        await readFile(certFile)
      }
    }
    expect(lstatSync(certFile).isFile()).toBe(true)
    expect(readFileSync(certFile, 'utf8')).toBe(ca.certPem)
  })

  it('refuses a CA file that does not exist rather than making a new one', async () => {
    const stderr = new PassThrough()
    const missing = join(tmpdir(), 'no-such-dir-wsgiprox', 'ca.pem')
    expect(await main(['env', '--ca-file', missing], { stdout: new PassThrough(), stderr })).toBe(1)
    expect(readText(stderr)).toContain('does not exist')
  })

  it('answers a flag it does not take with one line that points to its own help', async () => {
    const stderr = new PassThrough()
    expect(await main(['env', '--prot', '8080'], { stdout: new PassThrough(), stderr })).toBe(2)
    expect(String(stderr.read())).toBe(
      "wsgiprox: Unknown option '--prot' (see wsgiprox env --help)\n"
    )
  })
})
