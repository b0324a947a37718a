import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'
import { hostFileName } from '../../src/ca/certs-dir'
import { OptionsError } from '../../src/errors'
import { createProxy } from '../../src/proxy'
import type { ErrorContext } from '../../src/types'
import { echoApp } from '../helpers/apps'
import { httpsTunnel, requestOver } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'

let dir: string
let running: RunningProxy | undefined
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-certs-'))
})
afterEach(async () => {
  await running?.close()
  running = undefined
  await rm(dir, { recursive: true, force: true })
})

/** The CA options of these tests: a CA file and its certsDir, both in the test's folder. */
const caOptions = () => ({ file: join(dir, 'ca.pem'), certsDir: join(dir, 'certs') })

/** A proxy on the test's CA and certsDir; the `ca`-phase reports it made. */
async function start() {
  const warnings: string[] = []
  const onError = (error: Error, context: ErrorContext) => {
    if (context.phase === 'ca') {
      warnings.push(error.message)
    }
  }
  running = await startProxy(echoApp(), { ca: caOptions(), onError })
  return { proxy: running, warnings }
}

/** An HTTPS request for `host` through the proxy, verified against the CA and the name. */
async function httpsStatus(proxy: RunningProxy, host: string): Promise<number> {
  const tls = await httpsTunnel(proxy.port, `${host}:443`, host, proxy.caPem)
  const reply = await requestOver(tls, '/', { host })
  tls.destroy()
  return reply.status
}

/** The certsDir made with mode 0700, and `make` run on the path of `host`'s file in it. */
async function plant(host: string, make: (file: string) => Promise<void> | void) {
  await mkdir(caOptions().certsDir, { recursive: true, mode: 0o700 })
  await make(join(caOptions().certsDir, hostFileName(host)))
}

describe('certsDir files planted by someone else', () => {
  it('skips a FIFO under a host name, warns once and serves a new certificate', async () => {
    await plant('fifo.test', (file) => {
      execFileSync('mkfifo', [file])
    })
    const { proxy, warnings } = await start()
    expect(await httpsStatus(proxy, 'fifo.test')).toBe(200)
    expect(warnings).toEqual([
      expect.stringMatching(/fifo\.test\.pem was not used: it is not a regular file/),
    ])
  })

  it('skips a symbolic link to /dev/zero and serves a new certificate', async () => {
    await plant('zero.test', (file) => symlink('/dev/zero', file))
    const { proxy, warnings } = await start()
    const rssBefore = process.memoryUsage().rss
    expect(await httpsStatus(proxy, 'zero.test')).toBe(200)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024)
    expect(warnings).toEqual([
      expect.stringMatching(/zero\.test\.pem was not used: it is a symbolic link/),
    ])
  })

  it("skips this CA's certificate for another host planted under a host's name", async () => {
    const ca = await CertificateAuthority.open(caOptions())
    const other = await ca.issue('other.test')
    await plant('victim.test', (file) =>
      writeFile(file, other.keyPem + other.certPem, { mode: 0o600 })
    )
    const { proxy, warnings } = await start()
    // The client checks the name: it accepts only a certificate for victim.test.
    expect(await httpsStatus(proxy, 'victim.test')).toBe(200)
    expect(warnings).toEqual([
      expect.stringMatching(
        /victim\.test\.pem was not used: its certificate does not name victim\.test/
      ),
    ])
  })

  it('skips a stored key that others may read, and stores one only its owner may read', async () => {
    const first = await start()
    expect(await httpsStatus(first.proxy, 'read.test')).toBe(200)
    await first.proxy.close()
    const file = join(caOptions().certsDir, hostFileName('read.test'))
    await within(
      (async () => {
        while (!(await stat(file).catch(() => undefined))) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      })(),
      'the certificate was not stored'
    )
    const leaked = await readFile(file, 'utf8')
    await chmod(file, 0o644)
    const { proxy, warnings } = await start()
    expect(await httpsStatus(proxy, 'read.test')).toBe(200)
    expect(warnings).toEqual([
      `${file} was not used: its private key may be read by group or others (mode 644); a new certificate replaces it`,
    ])
    await within(
      (async () => {
        while ((await readFile(file, 'utf8')) === leaked) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      })(),
      'the file with the readable key was not replaced'
    )
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    // The key that was exposed serves the host no more.
    const keyOf = (pem: string) => /-----BEGIN PRIVATE KEY-----[^-]+/.exec(pem)?.[0]
    expect(keyOf(await readFile(file, 'utf8'))).not.toBe(keyOf(leaked))
  })

  it('refuses a folder every user may write, naming it and the fix', async () => {
    await mkdir(caOptions().certsDir, { recursive: true })
    await chmod(caOptions().certsDir, 0o777)
    const proxy = createProxy(echoApp(), { ca: caOptions() })
    await expect(proxy.listen(0, '127.0.0.1')).rejects.toThrow(OptionsError)
    await expect(proxy.listen(0, '127.0.0.1')).rejects.toThrow(
      /may be written by every user \(mode 777\): chmod 700/
    )
    await proxy.close()
  })

  it('warns of a folder its group may write, and serves', async () => {
    await mkdir(caOptions().certsDir, { recursive: true })
    await chmod(caOptions().certsDir, 0o770)
    const { proxy, warnings } = await start()
    expect(await httpsStatus(proxy, 'group.test')).toBe(200)
    expect(warnings).toEqual([expect.stringMatching(/may be written by its group \(mode 770\)/)])
  })
})
