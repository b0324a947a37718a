/**
 * Issued host certificates kept on disk, one PEM file (key + certificate, mode 0600) per
 * certificate name, so a restarted proxy serves the hosts it knows without issuing again.
 * @module
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { OptionsError, toError } from '../errors'
import { writeAtomically } from '../util/atomic-write'
import { makeFolder } from '../util/make-folder'
import { pemBlocks } from './keys'
import { readRegularFile } from './safe-read'
import type { SafeRead } from './safe-read'
import { writeAccess } from './write-access'

/** A stored key and certificate take about 1.5 KB; anything much larger is not ours. */
const MAX_STORED_BYTES = 64 * 1024
/** Files warned about, each once; bounded, as the names are the clients'. */
const WARNED_MAX = 1024

/** A key and certificate read back from the folder. */
export interface StoredCertificate {
  keyPem: string
  certPem: string
  notAfter: number
}

/** The `certsDir` folder of a CA. */
export class CertsDir {
  readonly dir: string
  /** What is wrong with how the folder is kept, without stopping it from working. */
  readonly warnings: readonly string[]
  readonly #caPublicKey: KeyObject
  readonly #warned = new Set<string>()
  readonly #listeners = new Set<(message: string) => void>()

  private constructor(dir: string, caPublicKey: KeyObject, warnings: string[]) {
    this.dir = dir
    this.#caPublicKey = caPublicKey
    this.warnings = Object.freeze(warnings)
  }

  /**
   * The folder, created (mode 0700) when missing. A folder others may write is refused: anyone
   * could put files there for the proxy to read. One its group may write, or another user owns,
   * is used with a warning.
   * @throws OptionsError when it cannot be created, is no folder, or others may write it.
   */
  static async open(dir: string, caPublicKey: KeyObject): Promise<CertsDir> {
    const fail = (reason: string, error?: unknown) =>
      new OptionsError(`ca.certsDir ${dir} ${reason}`, { cause: error })
    await makeFolder(dir, 0o700).catch((error: unknown) => {
      throw fail(`cannot be created: ${toError(error).message}`, error)
    })
    const stats = await stat(dir)
    if (!stats.isDirectory()) {
      throw fail('is not a folder')
    }
    // Sticky or not, a folder anyone may write lets anyone plant a file under a host's name.
    const access = writeAccess(stats, `chmod 700 ${dir}`)
    if (access.refuse !== undefined) {
      throw fail(access.refuse)
    }
    const warnings = access.warnings.map((warning) => `ca.certsDir ${dir} ${warning}`)
    return new CertsDir(dir, caPublicKey, warnings)
  }

  /** Call `listener` with a message for each stored file that is refused, once per file. */
  onWarning(listener: (message: string) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * The stored certificate for `name`, when a regular file of a bounded size holds it with its
   * key, this CA signed it, it names `name` and the key is its own; otherwise `undefined`, with a
   * warning (once per file) when a file was there. The caller then issues a new one, which
   * replaces the file (a folder stays: the warning says so).
   */
  async load(name: string): Promise<StoredCertificate | undefined> {
    const file = join(this.dir, hostFileName(name))
    const read = await readRegularFile(file, MAX_STORED_BYTES)
    if (read.kind === 'missing') {
      return undefined
    }
    const stored = this.#usable(read, name)
    if (typeof stored === 'string') {
      // A file, link, FIFO or device is replaced by the rename of save(); a folder is not
      // (rename(2) gives EISDIR), so the certificate is issued without being stored.
      const then =
        read.kind === 'refused' && read.folder
          ? `it is left in place, and certificates for ${name} are not stored until it is removed`
          : 'a new certificate replaces it'
      this.#warn(file, `${file} was not used: ${stored}; ${then}`)
      return undefined
    }
    return stored
  }

  /** What the file `read` gave holds for `name`, or why it may not be used. */
  #usable(read: Exclude<SafeRead, { kind: 'missing' }>, name: string): StoredCertificate | string {
    if (read.kind === 'refused') {
      return read.reason
    }
    // Its key is the one the host would be served with: a key that others may read is not used,
    // and the file that replaces it is the owner's alone (0600).
    if (read.mode & 0o044) {
      return `its private key may be read by group or others (mode ${read.mode.toString(8)})`
    }
    return this.#parse(read.text, name)
  }

  /** The key and certificate `text` holds for `name`, or why it holds none that may be used. */
  #parse(text: string, name: string): StoredCertificate | string {
    const blocks = pemBlocks(text)
    const key = blocks.find((b) => b.label === 'PRIVATE KEY')
    const cert = blocks.find((b) => b.label === 'CERTIFICATE')
    if (!key || !cert) {
      return 'it holds no private key and certificate'
    }
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(cert.der)
    } catch {
      return 'its certificate cannot be read'
    }
    // A folder shared with another CA, or a file edited by hand, must not be served.
    if (!x509.verify(this.#caPublicKey)) {
      return 'this CA did not sign its certificate'
    }
    // This CA's certificate for another host, put under this host's name, must not be either.
    if (!names(x509, name)) {
      return `its certificate does not name ${name}`
    }
    // Two certificates this CA issued for the host, each with its own key, can be mixed up.
    try {
      if (!x509.checkPrivateKey(createPrivateKey(key.text))) {
        return 'its private key does not match its certificate'
      }
    } catch {
      return 'its private key cannot be read'
    }
    return { keyPem: key.text, certPem: cert.text, notAfter: Date.parse(x509.validTo) }
  }

  #warn(file: string, message: string): void {
    if (this.#warned.has(file)) {
      return
    }
    if (this.#warned.size >= WARNED_MAX) {
      this.#warned.clear()
    }
    this.#warned.add(file)
    for (const listener of this.#listeners) {
      listener(message)
    }
  }

  /** Stores key + certificate PEM for name; resolves to the file written. */
  save(name: string, pem: string): Promise<string> {
    return writeHostFile(this.dir, name, pem)
  }
}

/** Whether `x509`'s subject alternative names hold `name` (a DNS name, `*.parent`, or an IP). */
function names(x509: X509Certificate, name: string): boolean {
  if (isIP(name) !== 0) {
    return x509.checkIP(name) !== undefined
  }
  const entries = (x509.subjectAltName ?? '').split(', ')
  return entries.includes(`DNS:${name}`)
}

/**
 * A file name for a certificate name that is the same on every OS and never collides with a
 * host's: `*` becomes `+` and an IPv6 address goes in brackets with `-` for `:` (neither `+`
 * nor brackets occur in host names; Windows forbids `*` and `:`).
 * @example hostFileName('*.example.com') // '+.example.com.pem'
 */
export function hostFileName(name: string): string {
  const safe = name.includes(':') ? `[${name.replaceAll(':', '-')}]` : name.replace('*', '+')
  return `${safe}.pem`
}

/** Writes PEM text for a name into dir (mode 0600, replaced atomically); resolves to the file. */
export async function writeHostFile(dir: string, name: string, pem: string): Promise<string> {
  const file = join(dir, hostFileName(name))
  await writeAtomically(file, pem, { mode: 0o600, replace: true })
  return file
}
