import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** `--import` value that loads tsx from this checkout, whatever the child's working directory. */
export const TSX_IMPORT = pathToFileURL(
  resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs')
).href

/** A child process that printed `listening on http://127.0.0.1:<port>`. */
export interface Started {
  child: ChildProcess
  port: number
  output: () => string
  stop(): Promise<void>
}

/** Start `args` with node and wait for its listening line (no sleeps: the line is the signal). */
export async function startListening(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {}
): Promise<Started> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) {
        resolve(Number(match[1]))
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code) => {
      reject(new Error(`exited with ${code}: ${output}`))
    })
  })
  return {
    child,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}

/** Resolves once the process's output matches `pattern`, with the match. */
export function outputMatching(running: Started, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve) => {
    const check = () => {
      const match = pattern.exec(running.output())
      if (match) {
        running.child.stdout?.off('data', check)
        running.child.stderr?.off('data', check)
        resolve(match)
      }
    }
    // The test's own listeners come after startListening's, which collect the output.
    running.child.stdout?.on('data', check)
    running.child.stderr?.on('data', check)
    check()
  })
}

/** A CLI run: the child, its end (exit code and output), and its output so far. */
export interface CliRun {
  child: ChildProcess
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>
  stdout: () => string
}

/** Run `wsgiprox args` from the sources in a child process, in a new temporary folder. */
export function runCli(args: string[]): CliRun {
  const root = resolve(import.meta.dirname, '../..')
  const child = spawn(
    process.execPath,
    ['--import', TSX_IMPORT, join(root, 'src/cli/index.ts'), ...args],
    {
      cwd: mkdtempSync(join(tmpdir(), 'wsgiprox-run-')),
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // 'close', not 'exit': the output may still be in the pipes when the process exits.
  const exited = once(child, 'close').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }))
  return { child, exited, stdout: () => stdout }
}

/**
 * `stderr` without the warning Node 22 prints in every process started with
 * `NODE_USE_ENV_PROXY=1` (its proxy support is experimental there): what a child of the proxy's
 * `env` prints of its own.
 */
export function withoutEnvProxyWarning(stderr: string): string {
  return stderr.replace(
    /^\(node:\d+\) \[UNDICI-EHPA\] Warning: .*\n(\(Use `node --trace-warnings \.\.\.` .*\n)?/m,
    ''
  )
}
