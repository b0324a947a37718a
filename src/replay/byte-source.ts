/**
 * Random access to the bytes of a WARC: a file, or a part of one (a WARC stored uncompressed in
 * a WACZ), read with positioned reads on one open file handle, so serving a capture costs one
 * `pread` and no `open`.
 * @module
 */
import { constants, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** The bytes of one WARC, read by position. */
export interface ByteSource {
  /** What warnings call it: the file, or `file.wacz!archive/data.warc.gz`. */
  readonly name: string
  readonly size: number
  /** The bytes from `start` up to `end` (exclusive), in chunks of at most `chunkSize`. */
  read(start: number, end: number, chunkSize?: number): AsyncGenerator<Uint8Array>
  /**
   * The bytes from `start` up to `end` (exclusive) read at once into `into`, which must hold
   * them: the part of `into` that was read. Only where the bytes are in a file as they are.
   */
  readNow?: (start: number, end: number, into: Buffer) => Buffer
}

/**
 * Indexing reads chunks of this size, as `fs.createReadStream` does: warcio's gzip reader copies
 * what is left of a chunk after each member ends, so larger chunks cost more, not less.
 */
export const READ_CHUNK_BYTES = 64 * 1024

/** An open file, shared by the sources cut from it; `close()` releases it. */
export interface OpenFile extends ByteSource {
  readonly handle: FileHandle
  close(): Promise<void>
}

/**
 * Open `path` for positioned reads. Only a regular file can be read so: opened without blocking
 * (which changes nothing for one), a FIFO is refused at once instead of waiting for a writer.
 */
export async function openFile(path: string, name: string = path): Promise<OpenFile> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close()
    throw error
  })
  if (!stats.isFile()) {
    await handle.close()
    throw new Error(`${path}: not a regular file (a FIFO, socket or device)`)
  }
  const { size } = stats
  return {
    name,
    size,
    handle,
    read: (start, end, chunkSize) => readRange(handle, start, Math.min(end, size), chunkSize),
    readNow: (start, end, into) => {
      const length = Math.max(0, Math.min(end, size) - start)
      return into.subarray(0, readSync(handle.fd, into, 0, length, start))
    },
    close: () => handle.close(),
  }
}

/** The part of `file` from `base` spanning `size` bytes, as a source of its own. */
export function sliceSource(
  file: ByteSource,
  base: number,
  size: number,
  name: string
): ByteSource {
  const { readNow } = file
  return {
    name,
    size,
    read: (start, end, chunkSize) => file.read(base + start, base + Math.min(end, size), chunkSize),
    readNow:
      readNow && ((start, end, into) => readNow(base + start, base + Math.min(end, size), into)),
  }
}

/**
 * Reads up to this size are one synchronous `pread`: from the page cache it takes microseconds,
 * less than the thread-pool round trip of an asynchronous read (measured: bench/README.md).
 */
const SYNC_READ_BYTES = 256 * 1024

async function* readRange(
  handle: FileHandle,
  start: number,
  end: number,
  chunkSize = READ_CHUNK_BYTES
): AsyncGenerator<Uint8Array> {
  if (end - start <= Math.min(chunkSize, SYNC_READ_BYTES)) {
    const buffer = Buffer.allocUnsafe(Math.max(0, end - start))
    const bytesRead = readSync(handle.fd, buffer, 0, buffer.length, start)
    if (bytesRead > 0) {
      yield buffer.subarray(0, bytesRead)
    }
    return
  }
  let position = start
  while (position < end) {
    const buffer = Buffer.allocUnsafe(Math.min(chunkSize, end - position))
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
    if (bytesRead === 0) {
      return
    }
    position += bytesRead
    yield buffer.subarray(0, bytesRead)
  }
}

/**
 * The first position at or after `from` (and before `to`) where `pattern` starts in `source`, or
 * `undefined`: how indexing finds the next record after bytes it cannot read.
 */
export async function findNext(
  source: ByteSource,
  pattern: Uint8Array,
  from: number,
  to = source.size
): Promise<number | undefined> {
  let carry = Buffer.alloc(0)
  let base = from
  for await (const chunk of source.read(from, Math.min(to + pattern.length - 1, source.size))) {
    const window = Buffer.concat([carry, chunk])
    const at = window.indexOf(pattern)
    if (at !== -1) {
      return base + at
    }
    const keep = Math.min(window.length, pattern.length - 1)
    carry = window.subarray(window.length - keep)
    base += window.length - keep
  }
  return undefined
}
