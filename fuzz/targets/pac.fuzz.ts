/**
 * The PAC host list: the patterns the options accept are written into the PAC file's script, so
 * whatever gets through must leave the script valid and meaning only what the list says.
 */
import { runInNewContext } from 'node:vm'
import { check, refusedAs } from './_check'
import { normalizeOptions, OptionsError, pacScript } from './_imports'

/** shExpMatch as browsers implement it: `*` any run, `?` one character, the rest literal. */
function shExpMatch(text: string, pattern: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`).test(text)
}

const ADDRESSES = ['127.0.0.1:8080', '[::1]:3128']

export function fuzz(data: Buffer): void {
  // One pattern a line; the host asked about is the first line.
  const [asked = '', ...hosts] = data.toString('latin1').split('\n')
  const options = refusedAs([OptionsError], () => normalizeOptions({ pac: { hosts } }))
  if (options?.pac === undefined) {
    return
  }
  const accepted = options.pac.hosts ?? []
  for (const [i, address] of ADDRESSES.entries()) {
    const socks = i === 1
    const script = pacScript({ address, socks, hosts: accepted })
    const sandbox: Record<string, unknown> = { shExpMatch }
    runInNewContext(script, sandbox, { timeout: 1000 })
    const find = sandbox.FindProxyForURL as ((url: string, host: string) => unknown) | undefined
    check(
      typeof find === 'function' && Object.keys(sandbox).length === 2,
      'the script defines FindProxyForURL only',
      {
        hosts,
        script,
      }
    )
    const route = `PROXY ${address}${socks ? `; SOCKS5 ${address}` : ''}`
    const expected = accepted.some((pattern) => shExpMatch(asked.toLowerCase(), pattern))
      ? route
      : 'DIRECT'
    const answer = find?.(`http://${asked}/`, asked)
    check(answer === expected, 'the script proxies exactly the hosts on the list', {
      asked,
      hosts,
      accepted,
      answer,
      expected,
    })
  }
}
