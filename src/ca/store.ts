/**
 * The CA file: PEM key + certificate, created atomically with mode 0600, read in the formats
 * Python's certauth writes. Every problem with it is a CaFileError that names it; an existing CA
 * file is never overwritten.
 * @module
 */
import { X509Certificate } from 'node:crypto'
import type { Stats } from 'node:fs'
import { open, readlink, realpath, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CaFileError, isCode, toError } from '../errors'
import { writeAtomically } from '../util/atomic-write'
import { makeFolder } from '../util/make-folder'
import { importSigningKey, pemBlocks, toPem } from './keys'
import type { SigningKey } from './keys'
import { READ_NONBLOCK, readAtMost } from './safe-read'
import { writeAccess } from './write-access'

/** Owner read/write only: the file holds the key that can impersonate every site. */
const PRIVATE_FILE_MODE = 0o600
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'])
/**
 * The largest CA file read: a PEM key and certificate take a few KiB (an RSA 4096 one under
 * 6 KiB), so anything near this is not a CA file, and reading it whole could exhaust memory.
 */
export const MAX_CA_FILE_BYTES = 1024 * 1024

/** A usable CA: its signing key and certificate. */
export interface CaMaterial {
  signingKey: SigningKey
  certPem: string
  certDer: Uint8Array<ArrayBuffer>
  certificate: X509Certificate
}

/**
 * The text of the CA file, creating it first with create() when it does not exist.
 * Creation is race-safe across processes: the file is written atomically without replacing one
 * (`writeAtomically`), so when another process won the race (EEXIST) its CA is read and used,
 * and every process ends with one CA.
 */
export async function readOrCreateCaFile(
  file: string,
  create: () => Promise<string>
): Promise<CaFileText> {
  const existing = await readCaFile(file)
  if (existing !== undefined) {
    return existing
  }
  await refuseDanglingLink(file)
  const dir = dirname(file)
  // 0700, as certsDir: a folder made here is never one its group or others may write.
  await makeFolder(dir, 0o700).catch((error: unknown) => {
    throw new CaFileError(file, `cannot create its folder ${dir}: ${reason(error)}`, {
      cause: error,
    })
  })
  const warnings = await folderAccess(file)
  const pem = await create()
  try {
    await writeAtomically(file, pem, { mode: PRIVATE_FILE_MODE, replace: false })
    return { text: pem, created: true, warnings }
  } catch (error) {
    if (isCode(error, 'EEXIST')) {
      // Another process won the race: its CA is the one.
      const winner = await readCaFile(file)
      if (winner === undefined) {
        throw new CaFileError(file, 'appeared while it was being created, and cannot be read')
      }
      return winner
    }
    throw new CaFileError(file, `cannot be written: ${reason(error)}`, { cause: error })
  }
}

/** The text of a CA file, whether this call created it, and what is wrong with how it is kept. */
export interface CaFileText {
  text: string
  created: boolean
  /** Problems that do not stop the CA from working, such as a key others may read. */
  warnings: string[]
}

async function readCaFile(file: string): Promise<CaFileText | undefined> {
  try {
    // A FIFO or a device would block the read, or never end: only a regular file is read.
    const info = await stat(file)
    if (info.isDirectory()) {
      throw new CaFileError(file, 'is a folder, not a file')
    }
    if (!info.isFile()) {
      throw new CaFileError(file, 'is not a regular file (a FIFO, socket or device)')
    }
    const { text, opened } = await readBounded(file)
    const warnings = [...fileAccess(file, opened), ...(await folderAccess(file))]
    return { text, created: false, warnings }
  } catch (error) {
    if (error instanceof CaFileError) {
      throw error
    }
    // ENOTDIR: a parent is a file; creation then fails with a message naming the folder.
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) {
      return undefined
    }
    throw new CaFileError(file, `cannot be read: ${reason(error)}`, { cause: error })
  }
}

/**
 * What is wrong with who may read or change the CA file, judged as certsDir is: a file every
 * user may write is refused (anyone could put their own CA in it, which the user would then
 * trust), one its group may write or another user owns is used with a warning, and so is one
 * others may read.
 */
function fileAccess(file: string, opened: Stats): string[] {
  const access = writeAccess(opened, `chmod 600 ${file}`)
  if (access.refuse !== undefined) {
    throw new CaFileError(file, access.refuse)
  }
  const warnings = access.warnings.map((warning) => `CA file ${file}: ${warning}`)
  if (opened.mode & 0o044) {
    const mode = (opened.mode & 0o777).toString(8)
    warnings.unshift(
      `CA file ${file}: its private key may be read by group or others (mode ${mode}); run chmod 600 ${file}`
    )
  }
  return warnings
}

/**
 * What is wrong with who may change the CA file's folder (and its target's, for a link): one
 * every user may write without the sticky bit is refused, as whoever may write it may put
 * another file in the CA file's place; one its group may write or another user owns gives a
 * warning. A folder that does not exist yet is created with mode 0700.
 */
async function folderAccess(file: string): Promise<string[]> {
  const target = await realpath(file).catch(() => file)
  const warnings: string[] = []
  for (const dir of new Set([dirname(file), dirname(target)])) {
    const stats = await stat(dir).catch(() => undefined)
    if (stats === undefined) {
      continue
    }
    const access = writeAccess(stats, `chmod go-w ${dir}`, { sticky: true })
    if (access.refuse !== undefined) {
      throw new CaFileError(file, `its folder ${dir} ${access.refuse}`)
    }
    warnings.push(
      ...access.warnings.map((warning) => `CA file ${file}: its folder ${dir} ${warning}`)
    )
  }
  return warnings
}

/**
 * The text of the regular file `file`, of at most {@link MAX_CA_FILE_BYTES}, and its stats. Its
 * size is checked on the open file, so a file swapped in after the stat() cannot be read whole;
 * O_NONBLOCK keeps a FIFO swapped in from holding the open.
 */
async function readBounded(file: string): Promise<{ text: string; opened: Stats }> {
  const handle = await open(file, READ_NONBLOCK)
  try {
    const info = await handle.stat()
    if (!info.isFile()) {
      throw new CaFileError(file, 'is not a regular file (a FIFO, socket or device)')
    }
    const tooLarge = (size: string) =>
      new CaFileError(
        file,
        `is too large (${size}): a CA file may hold at most ${MAX_CA_FILE_BYTES} bytes (1 MiB), and its key and certificate take a few KiB; is it the right file?`
      )
    if (info.size > MAX_CA_FILE_BYTES) {
      throw tooLarge(`${info.size} bytes`)
    }
    const text = await readAtMost(handle, MAX_CA_FILE_BYTES)
    if (text === undefined) {
      throw tooLarge('it grew while being read')
    }
    return { text, opened: info }
  } finally {
    await handle.close()
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
  // The certificate as checked, not as written: base64 decoding skips stray characters that
  // OpenSSL refuses, and X509Certificate ignores bytes after the certificate.
  const certDer = new Uint8Array(certificate.raw)
  return {
    signingKey: { key: key.key, hash: key.hash },
    certPem: toPem(certDer, 'CERTIFICATE'),
    certDer,
    certificate,
  }
}

/** A link whose target does not exist would make the new CA vanish: say so rather than guess. */
async function refuseDanglingLink(file: string): Promise<void> {
  let target: string
  try {
    target = await readlink(file)
  } catch {
    return
  }
  throw new CaFileError(
    file,
    `is a symbolic link to ${target}, which does not exist; create the CA there (wsgiprox ca init --ca-file ${target}) or remove the link`
  )
}

function reason(error: unknown): string {
  return toError(error).message
}
