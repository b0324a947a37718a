import { format, resolveConfig } from 'prettier'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { trustStepsMarkdown, withTrustSteps } from '../scripts/trust-steps'
import { ENV_OPTIONS } from '../src/cli/env-command'
import { REPLAY_OPTIONS } from '../src/cli/replay'
import { SERVE_OPTIONS, SERVE_USAGE } from '../src/cli/serve'
import { installGroups } from '../src/pages/landing-steps'
import { proxyEnv } from '../src/testing/env'

const root = resolve(import.meta.dirname, '..')
const trustFile = join(root, 'docs/trust.md')

/** The properties (anchored table rows) and methods (headings) under `### heading` in the API reference. */
function referenceNames(reference: string, heading: string): string[] {
  const section = reference.split(`\n### ${heading}\n`)[1]?.split('\n### ')[0] ?? ''
  const members = /^(?:\| <a id="[^"]+"><\/a> `(\w+)\??`|##### (\w+)\(\))/gm
  return [...section.matchAll(members)].map((m) => m[1] ?? m[2] ?? '')
}

describe('docs/trust.md', () => {
  it('holds the landing page install steps, as npm run docs renders them', async () => {
    const text = await readFile(trustFile, 'utf8')
    const config = await resolveConfig(trustFile)
    const rendered = await format(withTrustSteps(text, trustStepsMarkdown()), {
      ...config,
      filepath: trustFile,
    })
    expect(text, 'docs/trust.md is stale: run npm run docs').toBe(rendered)
  })

  it('has a heading for every platform and client of the landing page', async () => {
    const text = await readFile(trustFile, 'utf8')
    const ctx = { proxyHost: 'h', proxyPort: '1', downloadHost: 'd', caName: 'n' }
    for (const section of installGroups(ctx).flatMap((group) => group.sections)) {
      expect(text).toContain(`\n#### ${section.title}\n`)
    }
  })
})

describe('README', () => {
  it('names every option and Proxy member of the API reference', async () => {
    const [readme, reference] = await Promise.all([
      readFile(join(root, 'README.md'), 'utf8'),
      readFile(join(root, 'docs/api/wsgiprox.md'), 'utf8'),
    ])
    const names = [
      ...referenceNames(reference, 'ProxyOptions'),
      ...referenceNames(reference, 'Proxy'),
    ]
    expect(names).toContain('keepaliveMax')
    expect(names).toContain('listen')
    for (const name of names) {
      expect(readme).toMatch(new RegExp(`\`${name}[(\`]`))
    }
  })

  it('writes the functions and the Proxy members with the parameters the reference gives them', async () => {
    const [readme, reference] = await Promise.all([
      readFile(join(root, 'README.md'), 'utf8'),
      readFile(join(root, 'docs/api/wsgiprox.md'), 'utf8'),
    ])
    const proxy = reference.split('\n### Proxy\n')[1]?.split('\n### ')[0] ?? ''
    const signature = (text: string, name: string) =>
      new RegExp(`^(?:function )?(${name}\\([^)]*\\))`, 'm').exec(
        text.split(`### ${name}()\n`)[1] ?? ''
      )?.[1]
    // Every overload the reference gives a function (its section ends at the next `### `).
    const overloads = (name: string) =>
      [
        ...(reference.split(`### ${name}()\n`)[1]?.split('\n### ')[0] ?? '').matchAll(
          new RegExp(`^function (${name}\\([^)]*\\))`, 'gm')
        ),
      ].map((m) => m[1])
    const members = [...readme.matchAll(/^\| `(\w+)\(([^)]*)\)`/gm)]
    expect(members.map((m) => m[1])).toContain('getCertificateAuthority')
    for (const [, name = '', params] of members) {
      expect(`${name}(${params})`).toBe(signature(proxy, name))
    }
    // README names a function as the reference does, each of its forms: `createProxy(app,
    // options?)` takes ...; `startProxy(options?)`, or `startProxy(app, options?)` ..., starts.
    for (const name of ['createProxy', 'startProxy']) {
      const sentence =
        new RegExp(`^\`${name}\\([^\\n]*?(?:takes|starts)`, 'm').exec(readme)?.[0] ?? ''
      const written = [...sentence.matchAll(new RegExp(`\`(${name}\\([^)]*\\))\``, 'g'))].map(
        (m) => m[1]
      )
      expect(written.length).toBeGreaterThan(0)
      expect(written.sort()).toEqual(overloads(name).sort())
    }
  })
})

describe('docs/testing.md', () => {
  const section = (text: string, from: string, to: string) =>
    text.split(from)[1]?.split(to)[0] ?? ''
  /** The names in the first column of each table row: `a`, or `a`, `b` (`clear()` is `clear`). */
  const firstColumn = (table: string) =>
    [...table.matchAll(/^\| (`[^|]+`)/gm)].flatMap((row) =>
      [...(row[1] ?? '').matchAll(/`([\w.]+|\[Symbol\.\w+\])(?:\([^`]*\))?`/g)].map(
        (name) => name[1] ?? ''
      )
    )

  it('tells every member of the handle the API reference has, and no other', async () => {
    const [text, reference] = await Promise.all([
      readFile(join(root, 'docs/testing.md'), 'utf8'),
      readFile(join(root, 'docs/api/wsgiprox.md'), 'utf8'),
    ])
    const documented = firstColumn(section(text, '\n## The handle\n', '\n### '))
    const members = [
      ...referenceNames(reference, 'TestProxy').filter((name) => name !== 'ca'),
      ...referenceNames(reference, 'TestProxyCa').map((name) => `ca.${name}`),
      '[Symbol.asyncDispose]',
    ]
    expect([...documented].sort()).toEqual([...members].sort())
  })

  it('tells every variable of env, with its value', async () => {
    const text = await readFile(join(root, 'docs/testing.md'), 'utf8')
    const table = section(text, '\n## The environment for child processes\n', '\n## ')
    const env = proxyEnv('URL', 'CA')
    expect(firstColumn(table).sort()).toEqual(Object.keys(env).sort())
    const rows = table.split('\n').map((line) => line.split('|').map((cell) => cell.trim()))
    for (const [name, value] of Object.entries(env)) {
      const row = rows.find((cells) => cells[1]?.includes(`\`${name}\``))
      const shown = { URL: 'url', CA: 'CA' }[value] ?? value
      expect(row?.[2], name).toBe(`\`${shown}\``)
    }
  })
})

describe('the CLI flags the docs name', () => {
  const flags = (text: string) => [...new Set(text.match(/--[a-z][a-z-]+/g))].sort()
  const optionFlags = (options: object) =>
    Object.keys(options)
      .map((name) => `--${name}`)
      .sort()

  it("README's CLI synopsis names every flag of wsgiprox, and no other", async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    const synopsis = /\n## CLI\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    // The replay line names replay's own flags besides: those are checked against replay's.
    const serve = optionFlags(SERVE_OPTIONS)
    const replayOwn = optionFlags(REPLAY_OPTIONS).filter((flag) => !serve.includes(flag))
    expect(flags(synopsis).filter((flag) => !replayOwn.includes(flag))).toEqual(serve)
    const replayLine = /^wsgiprox replay .*$/m.exec(synopsis)?.[0] ?? ''
    expect(flags(replayLine).filter((flag) => !serve.includes(flag))).toEqual(replayOwn)
  })

  it('the env lines of the synopsis and of wsgiprox --help name every flag of wsgiprox env', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    const envFlags = optionFlags(ENV_OPTIONS).filter((flag) => flag !== '--help')
    for (const text of [readme, SERVE_USAGE]) {
      const line = /^(?:usage: )?\s*wsgiprox env .*$/m.exec(text)?.[0] ?? ''
      expect(flags(line).filter((flag) => flag !== '--help')).toEqual(envFlags)
    }
  })

  it('docs/replay.md names every flag of wsgiprox replay, and no other', async () => {
    const replay = await readFile(join(root, 'docs/replay.md'), 'utf8')
    const sentence = /The command takes the serve command's ([^(]*)\(`wsgiprox replay --help`\)/
    const named = sentence.exec(replay.replaceAll('\n', ' '))?.[1] ?? ''
    expect([...flags(named), '--help'].sort()).toEqual(optionFlags(REPLAY_OPTIONS))
  })
})
