/**
 * `npm run fuzz`: builds the fuzz targets and runs each under Jazzer.js (libFuzzer) for a fixed
 * time, one after another, starting from its committed seeds. Fails when a target finds an input
 * that breaks a property or throws what it should not; the input is kept in
 * .cache/fuzz/findings/ and printed. Usage:
 *
 *   npm run fuzz                          every target, 20 s each
 *   npm run fuzz -- --seconds 600 host    one target, ten minutes
 *   npm run fuzz -- --regression          only replay the seeds and the inputs found before
 *
 * @module
 */
import { execFileSync, spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { jazzerEnv } from './jazzer-env'
import { runStats } from './log-stats'

const ROOT = dirname(import.meta.dirname)
const WORK = join(ROOT, '.cache', 'fuzz')
const TARGETS = join(import.meta.dirname, 'targets')
/** Targets whose fuzz function returns a Promise; the others run in Jazzer's faster sync mode. */
const ASYNC_TARGETS = new Set(['ca-pem', 'cdxj'])
/** The libFuzzer dictionary (fuzz/dict/<name>.dict) of tokens each target's inputs are made of. */
const DICTIONARIES: Record<string, string | undefined> = {
  admission: 'http',
  rewrite: 'http',
  host: 'host',
  target: 'target',
  'proxy-protocol': 'proxy-protocol',
  canonical: 'url',
  cdxj: 'cdxj',
  memento: 'time',
  range: 'range',
}

interface Outcome {
  target: string
  ok: boolean
  runs: number
  perSecond: number
  coverage: string
  log: string
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    regression: { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
if (!Number.isInteger(seconds) || seconds < 1) {
  throw new Error(`--seconds must be a whole number of seconds, got ${values.seconds}`)
}
const all = readdirSync(TARGETS)
  .filter((file) => file.endsWith('.fuzz.ts'))
  .map((file) => file.slice(0, -'.fuzz.ts'.length))
const unknown = positionals.filter((name) => !all.includes(name))
if (unknown.length > 0) {
  throw new Error(`no fuzz target ${unknown.join(', ')}; the targets are ${all.join(', ')}`)
}
const chosen = positionals.length > 0 ? positionals : all

const env = jazzerEnv()
execFileSync(
  process.execPath,
  [bin('tsdown', 'tsdown'), '-c', 'fuzz/tsdown.config.ts', '--log-level', 'error'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  }
)

const outcomes: Outcome[] = []
for (const target of chosen) {
  outcomes.push(await fuzzTarget(target))
}
console.log(
  `\n${'target'.padEnd(18)}${'result'.padEnd(8)}${'runs'.padStart(10)}${'exec/s'.padStart(9)}  coverage`
)
for (const { target, ok, runs, perSecond, coverage } of outcomes) {
  console.log(
    `${target.padEnd(18)}${(ok ? 'ok' : 'FAILED').padEnd(8)}${String(runs).padStart(10)}${String(perSecond).padStart(9)}  ${coverage}`
  )
}
process.exitCode = outcomes.every((outcome) => outcome.ok) ? 0 : 1

/** The path of a package's bin script. */
function bin(pkg: string, name: string): string {
  const require = createRequire(import.meta.url)
  const manifest = require.resolve(`${pkg}/package.json`)
  const { bin: bins } = require(manifest) as { bin: string | Record<string, string> }
  return join(dirname(manifest), typeof bins === 'string' ? bins : (bins[name] ?? ''))
}

async function fuzzTarget(target: string): Promise<Outcome> {
  const found = join(WORK, 'corpus', target)
  const findings = join(WORK, 'findings')
  const logs = join(WORK, 'logs')
  for (const dir of [found, findings, logs]) {
    mkdirSync(dir, { recursive: true })
  }
  const log = join(logs, `${target}.log`)
  const args = [
    bin('@jazzer.js/core', 'jazzer'),
    join(WORK, 'build', `${target}.fuzz.cjs`),
    // New inputs go to the first folder, kept between runs; the committed seeds are only read.
    found,
    join(import.meta.dirname, 'corpus', target),
    // Only the project's code, bundled into the build folder, is instrumented for coverage.
    `--includes=${join(WORK, 'build')}/`,
    // Jazzer's bug detectors watch for command injection, path traversal and prototype
    // pollution, none of which these parsers can reach; they cost 3-4 s of start-up a target.
    '--disable_bug_detectors=.*',
    ...(ASYNC_TARGETS.has(target) ? [] : ['--sync']),
    ...(values.regression ? ['--mode', 'regression'] : []),
    '--',
    `-max_total_time=${seconds}`,
    `-artifact_prefix=${join(findings, `${target}-`)}`,
    '-print_final_stats=1',
    ...(DICTIONARIES[target]
      ? [`-dict=${join(import.meta.dirname, 'dict', `${DICTIONARIES[target]}.dict`)}`]
      : []),
  ]
  console.log(`fuzz: ${target} for ${seconds} s`)
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const file = createWriteStream(log)
  let output = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      file.write(chunk)
    })
  }
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  file.end()
  const ok = code === 0
  if (!ok) {
    console.log(output.split('\n').slice(-40).join('\n'))
    console.log(`fuzz: ${target} failed (exit ${String(code)}); its log is ${log}`)
  }
  return { target, ok, ...runStats(output), log }
}
