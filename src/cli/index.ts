#!/usr/bin/env node
/**
 * The `wsgiprox` command: `wsgiprox [serve flags]` starts a proxy, `wsgiprox replay ARCHIVE...`
 * serves web archives through one, `wsgiprox ca ...` manages the certificate authority.
 * @module
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import packageJson from '../../package.json' with { type: 'json' }
import { runCa } from './ca'
import type { Io } from './io'
import { reportError } from './io'
import { runReplay } from './replay'
import { runServe } from './serve'

/**
 * Run the command line `argv` (without `node` and the script). Resolves with the exit code, or
 * with `undefined` while a started proxy keeps running (until SIGINT or SIGTERM).
 */
export async function main(argv: string[], io: Io = process): Promise<number | undefined> {
  try {
    if (argv[0] === 'ca') {
      return await runCa(argv.slice(1), io)
    }
    const args = argv[0] === 'serve' ? argv.slice(1) : argv
    const stop =
      argv[0] === 'replay'
        ? await runReplay(argv.slice(1), io)
        : await runServe(args, io, packageJson.version)
    if (!stop) {
      return 0
    }
    const shutdown = () => {
      stop().then(
        () => {
          process.exitCode = 0
        },
        () => {
          process.exitCode = 1
        }
      )
    }
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
    return undefined
  } catch (error) {
    return reportError(error, io, argv[0] === 'replay' ? 'wsgiprox replay' : 'wsgiprox')
  }
}

/** Run `argv` as the bin does, setting the process's exit code when the command ends. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code !== undefined) {
        process.exitCode = code
      }
    },
    (error: unknown) => {
      process.stderr.write(`wsgiprox: ${String(error)}\n`)
      process.exitCode = 1
    }
  )
}

function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (!script) {
    return false
  }
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  run(process.argv.slice(2))
}
