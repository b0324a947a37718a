/**
 * The members of a WACZ as yauzl lists them, with names read here rather than by yauzl: yauzl
 * refuses a whole zip for one member named `../x` or `/x`, while such a name, or one given
 * twice, is one member to skip with a warning, and the rest of the archive is still served.
 * @module
 */
import type { Entry, ZipFile } from 'yauzl'

/** Bit 11 of the general purpose flags: the name is UTF-8 (else CP437, ASCII alike). */
const UTF8_NAME = 0x800

/** Every member of `zip` whose name is a plain relative path met for the first time. */
export function listEntries(
  zip: ZipFile,
  path: string,
  warn: (line: string) => void
): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = []
    const seen = new Set<string>()
    zip.on('entry', (entry: Entry) => {
      const raw = entry.fileName as unknown as Buffer | string
      const name =
        typeof raw === 'string'
          ? raw
          : raw.toString(entry.generalPurposeBitFlag & UTF8_NAME ? 'utf8' : 'latin1')
      if (!isPlainPath(name)) {
        warn(`${path}: member ${JSON.stringify(name)} is no plain relative path; skipped`)
      } else if (seen.has(name)) {
        warn(`${path}: member ${JSON.stringify(name)} is in the zip twice; only the first is read`)
      } else {
        seen.add(name)
        entry.fileName = name
        entries.push(entry)
      }
      zip.readEntry()
    })
    zip.once('end', () => {
      resolve(entries)
    })
    zip.once('error', reject)
    zip.readEntry()
  })
}

/** A name with no leading `/`, no drive, no backslash, and no empty, `.` or `..` part. */
function isPlainPath(name: string): boolean {
  return (
    !/^[a-z]:/i.test(name) &&
    !name.includes('\\') &&
    !name.includes('\0') &&
    name
      .split('/')
      .every((part, i, parts) =>
        part === '' ? i === parts.length - 1 && i > 0 : part !== '.' && part !== '..'
      )
  )
}
