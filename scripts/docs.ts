/**
 * `npm run docs`: writes the generated parts of docs/, the API reference (docs/api/, TypeDoc
 * with typedoc-plugin-markdown, from the TSDoc of src/index.ts and src/replay/index.ts; see typedoc.json) and the
 * per-platform trust steps in docs/trust.md (from the landing page's step data).
 * `npm run docs -- --check` writes nothing and fails when a checked-in copy is stale; CI runs it.
 */
import { format, resolveConfig } from 'prettier'
import { Application } from 'typedoc'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { trustStepsMarkdown, withTrustSteps } from './trust-steps'

const API_DIR = 'docs/api'
const TRUST_FILE = 'docs/trust.md'

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } })

/** Runs TypeDoc with typedoc.json, writing into `out`. */
async function writeApiReference(out: string): Promise<void> {
  const app = await Application.bootstrapWithPlugins({ out })
  const project = await app.convert()
  if (!project || app.logger.hasErrors()) {
    throw new Error('TypeDoc failed; see the messages above')
  }
  await app.generateOutputs(project)
}

/** Every file under `dir`, by relative path, with its text. */
async function readTree(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries.filter((entry) => entry.isFile())
  const texts = await Promise.all(
    files.map(async (entry) => {
      const file = join(entry.parentPath, entry.name)
      return [file.slice(dir.length + 1), await readFile(file, 'utf8')] as const
    })
  )
  return new Map(texts)
}

/** docs/trust.md as it should be: its generated steps rendered, then formatted as Prettier would. */
async function expectedTrustFile(): Promise<string> {
  const current = await readFile(TRUST_FILE, 'utf8')
  const config = await resolveConfig(TRUST_FILE)
  return format(withTrustSteps(current, trustStepsMarkdown()), {
    ...config,
    filepath: TRUST_FILE,
  })
}

async function check(): Promise<string[]> {
  const stale: string[] = []
  const temp = await mkdtemp(join(tmpdir(), 'wsgiprox-docs-'))
  try {
    await writeApiReference(temp)
    const [fresh, checkedIn] = await Promise.all([readTree(temp), readTree(API_DIR)])
    for (const name of new Set([...fresh.keys(), ...checkedIn.keys()])) {
      if (fresh.get(name) !== checkedIn.get(name)) {
        stale.push(join(API_DIR, name))
      }
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
  if ((await expectedTrustFile()) !== (await readFile(TRUST_FILE, 'utf8'))) {
    stale.push(TRUST_FILE)
  }
  return stale
}

if (values.check) {
  const stale = await check()
  if (stale.length > 0) {
    process.stderr.write(`stale, run npm run docs: ${stale.join(', ')}\n`)
    process.exitCode = 1
  }
} else {
  await writeApiReference(API_DIR)
  await writeFile(TRUST_FILE, await expectedTrustFile())
}
