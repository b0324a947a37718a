/**
 * Reading a file that someone else may have put in place of ours: only a regular file, never
 * through a symbolic link, never waiting on a FIFO or a device, and never more than a bound.
 * @module
 */
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/**
 * `O_NOFOLLOW`: a symbolic link (to `/dev/zero`, to another user's file) fails the open. And
 * `O_NONBLOCK`: opening a FIFO does not wait for a writer, which would hold one of libuv's four
 * threads for ever. Both are 0 where the platform lacks them.
 */
const { O_NOFOLLOW = 0, O_NONBLOCK = 0 } = constants as Partial<typeof constants>
/** Read-only, and never waiting on a FIFO put in a regular file's place. */
export const READ_NONBLOCK = constants.O_RDONLY | O_NONBLOCK
const FLAGS = READ_NONBLOCK | O_NOFOLLOW

/**
 * What reading gave: the text (and the file's permission bits), nothing (no such file), or why
 * the file was not read.
 */
export type SafeRead =
  | { kind: 'text'; text: string; mode: number }
  | { kind: 'missing' }
  /** `folder`: a folder is there, which a file cannot replace. */
  | { kind: 'refused'; reason: string; folder?: boolean }

/** Read `file` as UTF-8 if it is a regular file of at most `maxBytes`. Never throws. */
export async function readRegularFile(file: string, maxBytes: number): Promise<SafeRead> {
  let handle
  try {
    handle = await open(file, FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      return { kind: 'missing' }
    }
    return {
      kind: 'refused',
      reason: code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${String(code)})`,
    }
  }
  try {
    // Checked on the open file itself, so it cannot be swapped between the check and the read.
    const stats = await handle.stat()
    if (stats.isDirectory()) {
      return { kind: 'refused', reason: 'it is a folder', folder: true }
    }
    if (!stats.isFile()) {
      return { kind: 'refused', reason: 'it is not a regular file' }
    }
    if (stats.size > maxBytes) {
      return { kind: 'refused', reason: `it is larger than ${maxBytes} bytes` }
    }
    const text = await readAtMost(handle, maxBytes)
    if (text === undefined) {
      return { kind: 'refused', reason: `it is larger than ${maxBytes} bytes` }
    }
    return { kind: 'text', text, mode: stats.mode & 0o777 }
  } catch (error) {
    return { kind: 'refused', reason: `it cannot be read (${(error as Error).message})` }
  } finally {
    await handle.close()
  }
}

/**
 * The UTF-8 text of the open file `handle`, or `undefined` when it holds more than `maxBytes`:
 * at most `maxBytes + 1` bytes are read, whatever size the file claimed (it may grow meanwhile).
 */
export async function readAtMost(
  handle: FileHandle,
  maxBytes: number
): Promise<string | undefined> {
  const buffer = Buffer.alloc(maxBytes + 1)
  let length = 0
  // One read may return less than asked (a network file system): read until full or at the end.
  for (;;) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
    length += bytesRead
    if (bytesRead === 0 || length === buffer.length) {
      break
    }
  }
  return length > maxBytes ? undefined : buffer.toString('utf8', 0, length)
}
