/**
 * How the CLI shows an error that comes from the user's code (the `--app` module, a resolver):
 * where it happened (file:line:column), and below it the stack, so that it can be found without
 * a debugger. With `--quiet` the location stays on the one line.
 * @module
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { oneLine } from './io'

/** Stack frames of Node's own modules, which say nothing about the user's code. */
const INTERNAL_FRAME = /\(?node:|\(native\)|<anonymous>/

/** The folder of this package's code (dist/ when built, src/ from the sources). */
const OWN_CODE = fileURLToPath(new URL('..', import.meta.url))
const OWN_CODE_URL = new URL('..', import.meta.url).href

/** Whether a stack line is of Node itself or of the CLI, rather than of the user's code. */
const notTheUsers = (line: string) =>
  INTERNAL_FRAME.test(line) || line.includes(OWN_CODE) || line.includes(OWN_CODE_URL)

/** `file:line:column` of the first frame of `error` outside Node itself, as a path. */
export function errorLocation(error: Error): string | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    const frame = /^\s*at (?:.*? \()?(.+?:\d+:\d+)\)?$/.exec(line)?.[1]
    if (frame !== undefined && !INTERNAL_FRAME.test(frame)) {
      return frame.startsWith('file://')
        ? fileURLToPath(frame.replace(/:\d+:\d+$/, '')) + frame.slice(frame.search(/:\d+:\d+$/))
        : frame
    }
  }
  return undefined
}

/** The frames of the stack of `error` outside Node itself, each indented. */
export function stackLines(error: Error): string[] {
  return (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && !notTheUsers(line))
    .map((line) => `    ${line.trim()}`)
}

/**
 * Where the syntax error of a JavaScript module `file` is, as `file:line`. A module that fails
 * to compile is reported by `import()` with no location (Node prints it only for an uncaught
 * error), so `node --check` parses the file again, which runs none of it.
 */
export function syntaxErrorLocation(file: string): string | undefined {
  if (!/\.[cm]?js$/.test(file)) {
    return undefined
  }
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' })
  const first = check.stderr.split('\n')[0] ?? ''
  return check.status !== 0 && /:\d+$/.test(first) ? first : undefined
}

/**
 * The error of an `--app` module that did not load: one line naming its file and line (a syntax
 * error, or the frame that threw), and its stack as `details` for `reportError` unless `quiet`.
 */
export function appLoadError(file: string, cause: Error, quiet: boolean): Error {
  const where = cause.name === 'SyntaxError' ? syntaxErrorLocation(file) : errorLocation(cause)
  const kind = cause.name === 'Error' ? '' : `${cause.name}: `
  const message = `cannot load --app ${where ?? file}: ${kind}${oneLine(cause.message)}`
  const error = new Error(message + typeScriptHint(file, cause), { cause })
  return Object.assign(error, { details: quiet ? [] : stackLines(cause) })
}

/**
 * How to load a TypeScript `--app` where Node cannot: Node strips types by default from 22.18
 * (and 23.6); before that, `import()` of a `.ts` file fails with ERR_UNKNOWN_FILE_EXTENSION.
 */
function typeScriptHint(file: string, cause: Error): string {
  const unknownExtension = (cause as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION'
  return unknownExtension && /\.[cm]?ts$/.test(file)
    ? `; Node ${process.version} does not load TypeScript (22.18 and later do): load it with tsx, NODE_OPTIONS=--import=tsx wsgiprox --app ${file} ...`
    : ''
}
