/**
 * `npm start [-- flags]`: the CLI from dist/, built first when it is missing. On a fresh clone it
 * is: dist/ is built when the package is packed (prepack), not when it is installed. tsdown's
 * API, unlike its CLI, prints nothing on Node 20 but warnings. The CLI then runs in this same
 * process, so a start costs one Node start-up.
 */
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.mjs', import.meta.url)
if (!existsSync(cli)) {
  const { build } = await import('tsdown')
  await build({ logLevel: 'warn' })
}
const { run } = await import(cli.href)
run(process.argv.slice(2))
