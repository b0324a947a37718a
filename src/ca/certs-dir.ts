/**
 * Issued host certificates kept on disk, one PEM file (key + certificate, mode 0600) per
 * certificate name, so a restarted proxy serves the hosts it knows without issuing again.
 * @module
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { OptionsError, toError } from '../errors'
import { pemBlocks } from './keys'

/** A key and certificate read back from the folder. */
export interface StoredCertificate {
  keyPem: string
  certPem: string
  notAfter: number
}

/** The `certsDir` folder of a CA. */
export class CertsDir {
  readonly dir: string
  readonly #caPublicKey: KeyObject

  private constructor(dir: string, caPublicKey: KeyObject) {
    this.dir = dir
    this.#caPublicKey = caPublicKey
  }

  /**
   * The folder, created (mode 0700) when missing.
   * @throws OptionsError when it cannot be created.
   */
  static async open(dir: string, caPublicKey: KeyObject): Promise<CertsDir> {
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      const reason = toError(error).message
      throw new OptionsError(`ca.certsDir ${dir} cannot be created: ${reason}`, { cause: error })
    })
    return new CertsDir(dir, caPublicKey)
  }

  /** The stored certificate for name when this CA signed it; undefined for none or any other. */
  async load(name: string): Promise<StoredCertificate | undefined> {
    const text = await readFile(join(this.dir, hostFileName(name)), 'utf8').catch(() => '')
    const blocks = pemBlocks(text)
    const key = blocks.find((b) => b.label === 'PRIVATE KEY')
    const cert = blocks.find((b) => b.label === 'CERTIFICATE')
    if (!key || !cert) {
      return undefined
    }
    try {
      const x509 = new X509Certificate(cert.der)
      // A folder shared with another CA, or a file edited by hand, must not be served.
      if (!x509.verify(this.#caPublicKey)) {
        return undefined
      }
      return { keyPem: key.text, certPem: cert.text, notAfter: Date.parse(x509.validTo) }
    } catch {
      return undefined
    }
  }

  /** Stores key + certificate PEM for name; resolves to the file written. */
  save(name: string, pem: string): Promise<string> {
    return writeHostFile(this.dir, name, pem)
  }
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
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temp, pem, { mode: 0o600, flag: 'wx' })
    await rename(temp, file)
  } finally {
    await rm(temp, { force: true })
  }
  return file
}
