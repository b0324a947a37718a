/**
 * Reading a file that someone else may have put in place of ours: only a regular file, never
 * through a symbolic link, never waiting on a FIFO or a device, and never more than a bound.
 * @module
 */
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'

/**
 * `O_NOFOLLOW`: a symbolic link (to `/dev/zero`, to another user's file) fails the open. And
 * `O_NONBLOCK`: opening a FIFO does not wait for a writer, which would hold one of libuv's four
 * threads for ever. Both are 0 where the platform lacks them.
 */
const { O_NOFOLLOW = 0, O_NONBLOCK = 0 } = constants as Partial<typeof constants>
const FLAGS = constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK

/** What reading gave: the text, nothing (no such file), or why the file was not read. */
export type SafeRead =
  { kind: 'text'; text: string } | { kind: 'missing' } | { kind: 'refused'; reason: string }

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
    if (!stats.isFile()) {
      return { kind: 'refused', reason: 'it is not a regular file' }
    }
    if (stats.size > maxBytes) {
      return { kind: 'refused', reason: `it is larger than ${maxBytes} bytes` }
    }
    const buffer = Buffer.alloc(maxBytes + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    if (bytesRead > maxBytes) {
      return { kind: 'refused', reason: `it is larger than ${maxBytes} bytes` }
    }
    return { kind: 'text', text: buffer.toString('utf8', 0, bytesRead) }
  } catch (error) {
    return { kind: 'refused', reason: `it cannot be read (${(error as Error).message})` }
  } finally {
    await handle.close()
  }
}
