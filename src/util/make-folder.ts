/**
 * A folder and its missing parents, made one level at a time. Node's own `mkdir(dir, { recursive:
 * true })` never returns where a parent exists but cannot hold folders and says so with ENOENT
 * (anything under `/proc` or `/sys` on Linux): it makes the parent again and again, one libuv
 * thread at full CPU, and the proxy never starts. Here each level is tried at most twice.
 * @module
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isCode } from '../errors'

/**
 * Make `dir` (and its missing parents) with `mode`; a folder already there is left as it is, and
 * a file in its place is an EEXIST error.
 */
export async function makeFolder(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, { mode })
    return
  } catch (error) {
    if (isCode(error, 'EEXIST')) {
      await isFolder(dir, error)
      return
    }
    if (!isCode(error, 'ENOENT') || dirname(dir) === dir) {
      throw error
    }
  }
  await makeFolder(dirname(dir), mode)
  // The parent is there now: an ENOENT this time is final.
  await mkdir(dir, { mode }).catch(async (error: unknown) => {
    if (!isCode(error, 'EEXIST')) {
      throw error
    }
    await isFolder(dir, error)
  })
}

/** Throw `error` unless `path` is a folder (or a link to one). */
async function isFolder(path: string, error: unknown): Promise<void> {
  if (!(await stat(path)).isDirectory()) {
    throw error
  }
}
