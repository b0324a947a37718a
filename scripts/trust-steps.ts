/**
 * The per-platform trust steps of docs/trust.md, rendered as Markdown from the data the landing
 * page renders as HTML (src/pages/landing-steps.ts), filled in for the CLI's defaults.
 */
import { CA_DEFAULTS } from '../src/ca/authority'
import { DEFAULTS } from '../src/options'
import { installGroups } from '../src/pages/landing-steps'
import { DEFAULT_HOST, DEFAULT_PORT } from '../src/proxy'

/** The comments that mark the generated part of docs/trust.md. */
export const TRUST_STEPS_BEGIN =
  '<!-- Generated from src/pages/landing-steps.ts by `npm run docs`: edit the steps there. -->'
export const TRUST_STEPS_END = '<!-- End of the generated steps. -->'

/** The steps as Markdown, between the markers. */
export function trustStepsMarkdown(): string {
  const groups = installGroups({
    proxyHost: DEFAULT_HOST,
    proxyPort: String(DEFAULT_PORT),
    downloadHost: DEFAULTS.proxyHost,
    caName: CA_DEFAULTS.name,
  })
  const parts = groups.flatMap((group) => [
    `### ${group.title}`,
    ...group.sections.flatMap((section) => [
      `#### ${section.title}`,
      ...section.body.map((part) =>
        typeof part === 'string' ? part : `\`\`\`${part.lang}\n${part.code}\n\`\`\``
      ),
    ]),
  ])
  return [TRUST_STEPS_BEGIN, ...parts, TRUST_STEPS_END].join('\n\n')
}

/** `text` with its generated part replaced by `steps`. */
export function withTrustSteps(text: string, steps: string): string {
  const begin = text.indexOf(TRUST_STEPS_BEGIN)
  const end = text.indexOf(TRUST_STEPS_END)
  if (begin === -1 || end < begin) {
    throw new Error('docs/trust.md has lost the markers of its generated steps')
  }
  return text.slice(0, begin) + steps + text.slice(end + TRUST_STEPS_END.length)
}
