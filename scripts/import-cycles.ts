/**
 * `npm run lint` fails on an import cycle in src/, type-only imports included: a cycle makes a
 * reader go back and forth between files. TypeScript's own scanner lists each file's imports.
 */
import ts from 'typescript'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      return sources(path)
    }
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** The src/ files `file` imports (relative specifiers only; packages cannot close a cycle). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name))
    .map((base) =>
      [base, `${base}.ts`, join(base, 'index.ts')].find(
        (path) => existsSync(path) && path.endsWith('.ts')
      )
    )
    .filter((path): path is string => path !== undefined)
}

const graph = new Map(sources(root).map((file) => [file, importsOf(file)]))
const done = new Set<string>()
const cycles: string[][] = []

function visit(file: string, stack: string[]): void {
  const at = stack.indexOf(file)
  if (at !== -1) {
    cycles.push([...stack.slice(at), file])
    return
  }
  if (done.has(file)) {
    return
  }
  for (const next of graph.get(file) ?? []) {
    visit(next, [...stack, file])
  }
  done.add(file)
}

for (const file of graph.keys()) {
  visit(file, [])
}
for (const cycle of cycles) {
  console.error(`import cycle: ${cycle.map((file) => relative(root, file)).join(' -> ')}`)
}
if (cycles.length > 0) {
  process.exitCode = 1
} else {
  console.log(`no import cycles among ${graph.size} files in src/`)
}
