import { format, resolveConfig } from 'prettier'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { trustStepsMarkdown, withTrustSteps } from '../scripts/trust-steps'
import { installGroups } from '../src/pages/landing-steps'

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
})
