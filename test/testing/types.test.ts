/**
 * The kit's types as a test project sees them: the built declarations, checked by tsc with
 * Node's own fetch types (`@types/node`, no DOM lib), strict, as an ESM project compiles them.
 */
import { build } from 'tsdown'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const root = resolve(import.meta.dirname, '../..')
const modules = join(root, 'node_modules')

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-types-'))
  // Only the public entry, beside the test project; the repository's dist/ is left alone.
  await build({
    cwd: root,
    entry: { index: 'src/index.ts' },
    outDir: join(dir, 'dist'),
    logLevel: 'warn',
  })
}, 60_000)
afterAll(() => rm(dir, { recursive: true, force: true }))

/** tsc's complaints about `source`, compiled as a strict ESM test file importing 'wsgiprox'. */
async function typeErrors(source: string, lib = ['ES2022', 'ESNext.Disposable']): Promise<string> {
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib,
      strict: true,
      // As most projects have it: hono's own declarations need the DOM lib.
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(modules, '@types')],
      // The package as installed: its declarations, and its dependencies from this repository.
      paths: { wsgiprox: [join(dir, 'dist/index.d.mts')], '*': [join(modules, '*')] },
    },
    files: ['consumer.ts'],
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig))
  await writeFile(join(dir, 'consumer.ts'), source)
  const tsc = join(modules, 'typescript/bin/tsc')
  return promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
    () => '',
    (error: unknown) => (error as { stdout: string }).stdout
  )
}

describe('the test kit types', () => {
  it('take proxy.dispatcher in the fetch init of Node and of undici, with no cast', async () => {
    const source = `
      import { startProxy } from 'wsgiprox'
      import { fetch as undiciFetch, setGlobalDispatcher } from 'undici'

      await using proxy = await startProxy(() => new Response('fake'))
      await fetch('https://api.example.com/', { dispatcher: proxy.dispatcher })
      await undiciFetch('https://api.example.com/', { dispatcher: proxy.dispatcher })
      setGlobalDispatcher(proxy.dispatcher)
      await proxy.dispatcher.close()
    `
    expect(await typeErrors(source)).toBe('')
  }, 60_000)

  it.each([
    ['Node fetch types', undefined],
    ['the DOM lib', ['ES2022', 'ESNext.Disposable', 'DOM']],
  ])(
    'take proxy.fetchInit, spread or not, and the options alone, under %s',
    async (_, lib) => {
      const source = `
      import { Hono } from 'hono'
      import { startProxy } from 'wsgiprox'

      await using proxy = await startProxy({ proxyApps: { 'api.example.com': new Hono() } })
      await fetch('https://api.example.com/', proxy.fetchInit)
      await fetch('https://api.example.com/', { ...proxy.fetchInit, method: 'POST', body: '{}' })
      await using empty = await startProxy()
      empty.setApp(() => new Response('fake'))
    `
      expect(await typeErrors(source, lib)).toBe('')
    },
    60_000
  )
})
