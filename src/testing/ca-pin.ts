/**
 * The CA certificate as clients outside the process take it: a file holding the certificate
 * alone, and the SHA-256 of its public key for Chromium's `--ignore-certificate-errors-spki-list`.
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Base64 SHA-256 of the certificate's SubjectPublicKeyInfo: the form Chromium's
 * `--ignore-certificate-errors-spki-list` takes (and HPKP's pin-sha256 was).
 */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

/** A certificate in a file of its own, in a temporary folder, written when first asked for. */
export interface TempCertFile {
  /** The file's path; the first read writes it, unless the file was removed before. */
  readonly file: string
  /** What the file holds. */
  readonly pem: string
  /** Remove the file and its folder if they were written; safe to call more than once. */
  remove(): Promise<void>
}

/**
 * The folders written and not yet removed. A process that exits without `close()` (a script
 * that calls `process.exit`, a runner that exits after a failed test) would leave them in the
 * temporary directory for good. One `exit` listener for them all, whatever the number of proxies;
 * a process that is killed runs none (vitest terminates its worker threads, and sends its forks
 * SIGTERM).
 */
const unremoved = new Set<string>()
let removedAtExit = false

function removeAtExit(dir: string): void {
  unremoved.add(dir)
  if (!removedAtExit) {
    removedAtExit = true
    // Synchronous: nothing asynchronous runs once the process exits.
    process.once('exit', () => {
      for (const left of unremoved) {
        rmSync(left, { recursive: true, force: true })
      }
    })
  }
}

/**
 * The temporary folders' names: the prefix, a tag of this host's name, the pid of the process
 * that wrote it, a suffix. A pid means something only on the host (the PID namespace) that gave
 * it: containers that share a /tmp have names of their own, and never touch each other's folders.
 */
const PREFIX = `wsgiprox-ca-${createHash('sha256').update(hostname()).digest('hex').slice(0, 8)}-`
const LEFT_BY = new RegExp(`^${PREFIX}(\\d+)-`)
let leftoversRemoved = false

/**
 * Remove, once per process, the folders that processes no longer running left behind. A process
 * that is killed runs no `exit` listener: vitest terminates its worker threads and ends its forks
 * without one, so a suite that never closes its proxy (or a worker killed at a timeout, or by
 * SIGKILL) leaves its folder. What is left is harmless, a certificate whose key went with the
 * process's memory (or stays in the CA file a test gave), but it would pile up run after run. A
 * folder whose process still runs, or that this user may not remove, is left alone; a process
 * ID the system has given again keeps its folder until that process ends too.
 */
function removeLeftovers(): void {
  if (leftoversRemoved) {
    return
  }
  leftoversRemoved = true
  let names: string[]
  try {
    names = readdirSync(tmpdir())
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(LEFT_BY.exec(name)?.[1])
    if (pid > 0 && pid !== process.pid && !isRunning(pid)) {
      try {
        rmSync(join(tmpdir(), name), { recursive: true, force: true })
      } catch {
        // Another user's folder in a shared /tmp, or one removed meanwhile.
      }
    }
  }
}

/** Whether a process `pid` runs: signal 0 tests for it; EPERM says it runs as another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * `certPem` (never a key) as `wsgiprox-ca-cert.pem` in a new temporary folder, written on first
 * use: most tests of a suite use the dispatcher alone, and the three file system calls cost a
 * few milliseconds per proxy on a busy machine.
 */
export function tempCertFile(certPem: string): TempCertFile {
  let dir: string | undefined
  let file: string | undefined
  let removed = false
  return {
    pem: certPem,
    get file() {
      if (removed && file === undefined) {
        // Asked for the first time after close(): name a file that is not there rather than
        // write one that nothing would remove.
        return join(tmpdir(), 'wsgiprox-ca-removed', 'wsgiprox-ca-cert.pem')
      }
      if (file === undefined) {
        removeLeftovers()
        dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`))
        removeAtExit(dir)
        file = join(dir, 'wsgiprox-ca-cert.pem')
        writeFileSync(file, certPem, { mode: 0o644 })
      }
      return file
    },
    async remove() {
      removed = true
      if (dir !== undefined) {
        unremoved.delete(dir)
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}
