/**
 * What the npm tarball holds: the README's and the docs' relative links resolve to files inside
 * it, since a package page and an unpacked tarball have no repository to resolve them against.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { dirname, join, normalize, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')

/** The files `npm pack` would put in the tarball (no build: the links are what is checked). */
async function packedFiles(): Promise<string[]> {
  // npm's own CLI where npm runs the tests, so that it is the npm of this Node.
  const npm = process.env.npm_execpath
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts']
  const { stdout } = npm
    ? await run(process.execPath, [npm, ...args], { cwd: root })
    : await run('npm', args, { cwd: root })
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }]
  return pack.files.map((file) => file.path)
}

/** The relative link targets of a Markdown file, without their #fragment. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z]+:|^#/i.test(target))
    .map((target) => target.replace(/#.*$/, ''))
}

describe('the npm tarball', () => {
  it('holds every file the README and the docs link to', async () => {
    const files = await packedFiles()
    const packed = new Set(files)
    const broken: string[] = []
    for (const page of files.filter((file) => file.endsWith('.md'))) {
      for (const target of relativeLinks(await readFile(join(root, page), 'utf8'))) {
        const path = normalize(join(dirname(page), target)).replace(/\/$/, '')
        if (!packed.has(path) && !files.some((file) => file.startsWith(`${path}/`))) {
          broken.push(`${page} -> ${target}`)
        }
      }
    }
    expect(files).toContain('README.md')
    expect(files).toContain('docs/trust.md')
    expect(broken).toEqual([])
  }, 30_000)
})
