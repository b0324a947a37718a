/**
 * Compressed bytes inflated once into a temporary file that is removed as soon as it is open:
 * reads are then positioned reads like a stored WARC's. A WARC deflated inside a WACZ is so
 * (inflating the entry from its start for each capture made one near the end of a 50 MB entry
 * take 0.2 s), and so are a large gzip member a player seeks in (inflated-members.ts) and a
 * large payload sent decoded (decoded-bodies.ts).
 * @module
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Transform } from 'node:stream'
import { createInflateRaw } from 'node:zlib'
import type { ByteSource, OpenFile } from './byte-source'
import { openFile } from './byte-source'

/**
 * The bytes of `compressed`, inflated by `inflater` (raw deflate by default) into an open
 * temporary file (no name left on disk). When the stream is corrupt, what inflated before the
 * damage is kept and `warn` says so; indexing then finds where its records stop.
 */
export async function inflateEntry(
  compressed: ByteSource,
  name: string,
  warn: (line: string) => void,
  inflater: () => Transform = createInflateRaw
): Promise<OpenFile> {
  return temporaryFile(name, async (out) => {
    let written = 0
    try {
      const inflated = Readable.from(compressed.read(0, compressed.size)).pipe(inflater())
      for await (const chunk of inflated as AsyncIterable<Buffer>) {
        written += (await out.write(chunk)).bytesWritten
      }
    } catch (error) {
      warn(
        `${name}: its deflated bytes are corrupt (${error instanceof Error ? error.message : String(error)}); reading the ${written} bytes inflated before the damage`
      )
    }
  })
}

/**
 * `chunks` written into an open temporary file (no name left on disk); `undefined` when they
 * run past `maxBytes`. Rejects when `chunks` do.
 */
export async function spoolFile(
  chunks: AsyncIterable<Uint8Array>,
  name: string,
  maxBytes: number
): Promise<OpenFile | undefined> {
  const state = { whole: true }
  const file = await temporaryFile(name, async (out) => {
    let written = 0
    for await (const chunk of chunks) {
      written += (await out.write(chunk)).bytesWritten
      if (written > maxBytes) {
        state.whole = false
        return
      }
    }
  })
  if (!state.whole) {
    await file.close()
    return undefined
  }
  return file
}

/** A temporary file that `write` fills, then opened for reading, its name already removed. */
async function temporaryFile(
  name: string,
  write: (out: FileHandle) => Promise<void>
): Promise<OpenFile> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-wacz-'))
  try {
    const path = join(dir, 'entry.warc')
    const out = await open(path, 'w')
    try {
      await write(out)
    } finally {
      await out.close()
    }
    return await openFile(path, name)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
