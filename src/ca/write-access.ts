/**
 * Who besides this process's user may change a file or folder the CA trusts. The CA file, its
 * folder and `certsDir` are judged alike: what every user may write is refused, what the group
 * may write or another user owns is used with a warning.
 * @module
 */
import type { Stats } from 'node:fs'

/** What is wrong with who may change a path, in words that follow its name. */
export interface WriteAccess {
  /** Every user may write it: anyone could put their own key or certificate there. */
  refuse?: string
  /** Its group may write it, or another user (not root) owns it. */
  warnings: string[]
}

/**
 * Judge `stats` of a file or folder; `chmod` is the command that fixes the mode. With
 * `sticky: true` (a folder holding the file) the sticky bit is enough: in a folder like `/tmp`
 * only a file's owner may rename or remove it.
 */
export function writeAccess(stats: Stats, chmod: string, options: { sticky?: boolean } = {}) {
  const result: WriteAccess = { warnings: [] }
  const guarded = options.sticky === true && (stats.mode & 0o1000) !== 0
  const mode = `mode ${(stats.mode & 0o777).toString(8)}${options.sticky ? ', no sticky bit' : ''}`
  if (stats.mode & 0o002 && !guarded) {
    result.refuse = `may be written by every user (${mode}): ${chmod}`
  } else if (stats.mode & 0o020 && !guarded) {
    result.warnings.push(`may be written by its group (${mode}): ${chmod}`)
  }
  // Root owning it is the norm for system folders; root can change anything anyway.
  const uid = process.getuid?.()
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    result.warnings.push(`belongs to another user (uid ${stats.uid})`)
  }
  return result
}
