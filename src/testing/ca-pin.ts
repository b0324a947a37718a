/**
 * The CA certificate as clients outside the process take it: a file holding the certificate
 * alone, and the SHA-256 of its public key for Chromium's `--ignore-certificate-errors-spki-list`.
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Base64 SHA-256 of the certificate's SubjectPublicKeyInfo: the form Chromium's
 * `--ignore-certificate-errors-spki-list` takes (and HPKP's pin-sha256 was).
 */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

/** A certificate written to a file of its own in a new temporary folder. */
export interface TempCertFile {
  file: string
  /** What the file holds. */
  pem: string
  /** Remove the file and its folder; safe to call more than once. */
  remove(): Promise<void>
}

/** Write `certPem` (never a key) to `wsgiprox-ca-cert.pem` in a new temporary folder. */
export async function writeTempCertFile(certPem: string): Promise<TempCertFile> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-ca-'))
  const file = join(dir, 'wsgiprox-ca-cert.pem')
  await writeFile(file, certPem, { mode: 0o644 })
  return { file, pem: certPem, remove: () => rm(dir, { recursive: true, force: true }) }
}
