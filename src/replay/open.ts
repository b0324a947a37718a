/**
 * Open the archives given on a command line (files and folders) as collections, and bundle the
 * app and resolver that serve them.
 * @module
 */
import { readdir, realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULTS } from '../options'
import { createReplayApp } from './app'
import type { ReplayApp } from './app'
import type { Collection } from './collection'
import { ARCHIVE_NAME, collectionName, openCollection } from './collection'
import { timestampOption } from './memento'
import { ReplayResolver } from './resolver'

/** Options of {@link openReplay}. */
export interface ReplayOptions {
  /**
   * The proxy's own host names (its `proxyHost` and `downloadHost`), whose pages need no
   * collection. @default ['wsgiprox']
   */
  proxyHosts?: string[]
  /** Told one line for each problem in the archives (a corrupt record, a missing file). */
  onWarning?: (line: string) => void
  /**
   * Answer every request that sends no `Accept-Datetime` with the capture closest to this
   * time: a timestamp in UTC, from the year to the second (`2020`, `20200131235959`), as
   * pywb's proxy mode takes a default one. @default the latest capture
   */
  timestamp?: string
}

/** Archives opened for replay: pass `app` and `resolver` to `createProxy`. */
export interface Replay {
  readonly collections: readonly Collection[]
  readonly app: ReplayApp
  readonly resolver: ReplayResolver
  /** Release the archives' open files. */
  close(): Promise<void>
}

/**
 * Open each archive in `paths` (WARC, WARC.gz or WACZ files, and folders holding them) as a
 * collection named after its file, indexed once here. An archive that cannot be opened is
 * reported to `onWarning` and left out; rejects only when none can be.
 */
export async function openReplay(paths: string[], options: ReplayOptions = {}): Promise<Replay> {
  const warn = options.onWarning ?? (() => undefined)
  // A bad timestamp is refused before any archive is opened.
  timestampOption(options.timestamp)
  const collections: Collection[] = []
  const names = new Set<string>()
  for (const file of await archiveFiles(paths, warn)) {
    let name = collectionName(file)
    for (let n = 2; names.has(name); n++) {
      name = `${collectionName(file)}-${n}`
    }
    try {
      collections.push(await openCollection(file, warn, name))
      names.add(name)
    } catch (error) {
      warn(error instanceof Error ? error.message : String(error))
    }
  }
  if (collections.length === 0) {
    throw new Error(`no archive to replay in ${paths.join(', ') || '(no paths given)'}`)
  }
  return {
    collections,
    app: createReplayApp(collections, { timestamp: options.timestamp }),
    resolver: new ReplayResolver(
      collections.map((c) => c.name),
      { proxyHosts: options.proxyHosts ?? [DEFAULTS.proxyHost] }
    ),
    async close() {
      await Promise.all(collections.map((c) => c.close()))
    },
  }
}

/** The archive files named by `paths`: files as given, folders searched for archives. */
async function archiveFiles(paths: string[], warn: (line: string) => void): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    let isFolder: boolean
    try {
      isFolder = (await stat(path)).isDirectory()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      warn(`${path}: ${code === 'ENOENT' ? 'no such file or folder' : (error as Error).message}`)
      continue
    }
    if (!isFolder) {
      files.push(path)
      continue
    }
    const found = (await readdir(path, { recursive: true }))
      .filter((name) => ARCHIVE_NAME.test(name))
      .sort()
      .map((name) => join(path, name))
    if (found.length === 0) {
      warn(`${path}: no .warc, .warc.gz or .wacz file in this folder`)
    }
    files.push(...found)
  }
  return onceEach(files, warn)
}

/**
 * `files` without a second path to a file already listed (a file named besides its folder, or
 * twice): two collections of one archive would make every client pick one by proxy user name.
 */
async function onceEach(files: string[], warn: (line: string) => void): Promise<string[]> {
  const seen = new Map<string, string>()
  const kept: string[] = []
  for (const file of files) {
    const real = await realpath(file).catch(() => file)
    const first = seen.get(real)
    if (first === undefined) {
      seen.set(real, file)
      kept.push(file)
    } else {
      warn(`${file}: the same file as ${first}; opened once`)
    }
  }
  return kept
}
