/**
 * Write a whole file or nothing: the text goes to a temporary file beside it (created
 * exclusively, with its final mode), which then takes the final name. Readers never see a file
 * half written.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** How {@link writeAtomically} writes. */
export interface AtomicWrite {
  /** The file's mode, from its creation on. */
  mode: number
  /**
   * `true`: an existing file is replaced (rename). `false`: it never is, and the write fails with
   * `EEXIST`; the temporary file is hard-linked to the final name, which fails where a file is.
   */
  replace: boolean
}

/** Write `text` to `file` as `how` says; the temporary file is gone afterwards, whatever happened. */
export async function writeAtomically(file: string, text: string, how: AtomicWrite): Promise<void> {
  const temp = join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  )
  try {
    await writeFile(temp, text, { mode: how.mode, flag: 'wx' })
    await (how.replace ? rename(temp, file) : linkNoReplace(temp, file))
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
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
      await copyFile(from, to, constants.COPYFILE_EXCL)
      return
    }
    throw error
  }
}
