/**
 * The CA file: PEM key + certificate, created atomically with mode 0600, read in the formats
 * Python's certauth writes. Every problem with it is a CaFileError that names it; an existing CA
 * file is never overwritten.
 * @module
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CaFileError } from '../errors'
import { importSigningKey, pemBlocks } from './keys'
import type { SigningKey } from './keys'

/** Owner read/write only: the file holds the key that can impersonate every site. */
const PRIVATE_FILE_MODE = 0o600
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'])

/** A usable CA: its signing key and certificate. */
export interface CaMaterial {
  signingKey: SigningKey
  certPem: string
  certDer: Uint8Array<ArrayBuffer>
  certificate: X509Certificate
}

/**
 * The text of the CA file, creating it first with create() when it does not exist.
 * Creation is race-safe across processes: the PEM goes to a temporary file in the same folder,
 * which is then hard-linked to the final name. link() never replaces a file, so when another
 * process won the race (EEXIST) its CA is read and used, and every process ends with one CA.
 */
export async function readOrCreateCaFile(
  file: string,
  create: () => Promise<string>
): Promise<string> {
  const existing = await readCaFile(file)
  if (existing !== undefined) {
    return existing
  }
  const dir = dirname(file)
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw new CaFileError(file, `cannot create its folder ${dir}: ${reason(error)}`, {
      cause: error,
    })
  })
  const pem = await create()
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, pem, { mode: PRIVATE_FILE_MODE, flag: 'wx' })
    await linkNoReplace(temp, file)
    return pem
  } catch (error) {
    if (isCode(error, 'EEXIST')) {
      return (await readCaFile(file)) ?? pem
    }
    throw new CaFileError(file, `cannot be written: ${reason(error)}`, { cause: error })
  } finally {
    await rm(temp, { force: true })
  }
}

async function linkNoReplace(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch (error) {
    // Some file systems (FAT, some network and container mounts) have no hard links; an
    // exclusive copy still never replaces a file, at the cost of a short window where a reader
    // could see it half written.
    if (isCode(error, 'EPERM') || isCode(error, 'ENOTSUP') || isCode(error, 'ENOSYS')) {
      await copyFile(from, to, constants.COPYFILE_EXCL)
      return
    }
    throw error
  }
}

async function readCaFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    // ENOTDIR: a parent is a file; creation then fails with a message naming the folder.
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) {
      return undefined
    }
    const problem = isCode(error, 'EISDIR')
      ? 'is a folder, not a file'
      : `cannot be read: ${reason(error)}`
    throw new CaFileError(file, problem, { cause: error })
  }
}

/**
 * Parses a CA file: a PEM private key (PKCS#8 `PRIVATE KEY`, or PKCS#1 `RSA PRIVATE KEY` as
 * Python's certauth writes it) and a PEM CA certificate, in either order.
 * @param source - the file name the errors mention.
 * @throws CaFileError when either part is missing or unusable, or they do not belong together.
 */
export async function parseCaPem(text: string, source: string): Promise<CaMaterial> {
  const blocks = pemBlocks(text)
  const keyBlock = blocks.find((b) => KEY_LABELS.has(b.label))
  const certBlock = blocks.find((b) => b.label === 'CERTIFICATE')
  if (
    blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY') ||
    text.includes('Proc-Type: 4,ENCRYPTED')
  ) {
    throw new CaFileError(source, 'its private key is encrypted; store it without a passphrase')
  }
  const expected = 'expected a PEM private key followed by the PEM CA certificate'
  if (!keyBlock) {
    throw new CaFileError(source, `holds no private key (${expected})`)
  }
  if (!certBlock) {
    throw new CaFileError(source, `holds no certificate (${expected})`)
  }
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(certBlock.der)
  } catch (error) {
    throw new CaFileError(source, `its certificate cannot be parsed: ${reason(error)}`, {
      cause: error,
    })
  }
  let key: Awaited<ReturnType<typeof importSigningKey>>
  try {
    key = await importSigningKey(keyBlock.text)
  } catch (error) {
    throw new CaFileError(source, `its private key cannot be used: ${reason(error)}`, {
      cause: error,
    })
  }
  if (!certificate.checkPrivateKey(key.object)) {
    throw new CaFileError(source, 'its private key does not match its certificate')
  }
  if (!certificate.ca) {
    throw new CaFileError(source, 'its certificate is not a CA certificate (no CA:TRUE)')
  }
  if (Date.parse(certificate.validTo) <= Date.now()) {
    throw new CaFileError(
      source,
      `its certificate expired on ${certificate.validTo}; move the file away to create a new CA`
    )
  }
  return {
    signingKey: { key: key.key, hash: key.hash },
    certPem: certBlock.text,
    certDer: certBlock.der,
    certificate,
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
