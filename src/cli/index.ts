#!/usr/bin/env node
/**
 * The `wsgiprox` command: `wsgiprox [serve flags]` starts a proxy, `wsgiprox [flags] -- COMMAND`
 * runs a command through one, `wsgiprox env` prints the environment for one, `wsgiprox replay
 * ARCHIVE...` serves web archives through one, `wsgiprox ca ...` manages the certificate authority.
 * @module
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import packageJson from '../../package.json' with { type: 'json' }
import { runCa } from './ca'
import { runEnv } from './env-command'
import type { Io } from './io'
import { reportError } from './io'
import { runReplay } from './replay'
import { runCommand } from './run-command'
import { runServe } from './serve'
import type { StopControl } from './shutdown'
import { stopOnSignals } from './shutdown'

/**
 * Run the command line `argv` (without `node` and the script). Resolves with the exit code, or
 * with `undefined` while a started proxy keeps running (until SIGINT or SIGTERM).
 */
export async function main(
  argv: string[],
  io: Io = process,
  control: StopControl = {}
): Promise<number | undefined> {
  try {
    if (argv[0] === 'ca') {
      return await runCa(argv.slice(1), io)
    }
    if (argv[0] === 'env') {
      return await runEnv(argv.slice(1), io)
    }
    const args = argv[0] === 'serve' ? argv.slice(1) : argv
    const dashes = args.indexOf('--')
    if (dashes !== -1) {
      return ended(await runCommand(args.slice(0, dashes), args.slice(dashes + 1), io), control)
    }
    const starting =
      argv[0] === 'replay' ? runReplay(argv.slice(1), io) : runServe(args, io, packageJson.version)
    // Listening before the banner shows: a signal sent on seeing it stops the proxy gracefully.
    stopOnSignals(starting, io, control)
    return (await starting) ? undefined : 0
  } catch (error) {
    const command = argv[0] === 'replay' || argv[0] === 'env' ? `wsgiprox ${argv[0]}` : 'wsgiprox'
    const code = reportError(error, io, command)
    return argv[0] === 'ca' || argv[0] === 'env' ? code : ended(code, control)
  }
}

/**
 * End with `code` a run whose proxy has stopped (its command ended) or never started (its port
 * in use): a timer or socket the --app module still holds must not keep the process running.
 */
function ended(code: number, control: StopControl): number {
  control.exit?.(code)
  return code
}

/**
 * Run `argv` as the bin does, setting the process's exit code when the command ends; a stopped
 * proxy exits even if the app still holds timers.
 */
export function run(argv: string[]): void {
  // eslint-disable-next-line n/no-process-exit -- the proxy has stopped: nothing else may hold it
  main(argv, process, { exit: (code) => process.exit(code) }).then(
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
