/**
 * `npm start` on a fresh clone: dist/ is built when the package is packed (prepack), not when it
 * is installed, so the first start builds it. tsdown's API, unlike its CLI, prints nothing on
 * Node 20 but warnings.
 */
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../dist/cli.mjs', import.meta.url))) {
  const { build } = await import('tsdown')
  await build({ logLevel: 'warn' })
}
