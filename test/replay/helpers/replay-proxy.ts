/**
 * A replay proxy for the tests: archives written into a temporary folder, opened with
 * openReplay, served by a proxy on 127.0.0.1:0 with an in-memory CA; undici clients through it.
 */
import { fetch, ProxyAgent } from 'undici'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Replay } from '../../../src/replay/index'
import { openReplay } from '../../../src/replay/index'
import type { RunningProxy } from '../../helpers/proxy'
import { startProxy } from '../../helpers/proxy'
import type { RecordSpec } from './archives'
import { tempFolder, writeWacz, writeWarc } from './archives'
import { OTHER, SITE } from './site'

/** A running replay proxy and where its files are. */
export interface ReplayProxy {
  running: RunningProxy
  replay: Replay
  dir: string
  caFile: string
  warnings: string[]
  /** GET `url` through the proxy (as collection `user` when given), verifying TLS against the CA. */
  get: (
    url: string,
    options?: {
      user?: string
      headers?: Record<string, string>
      method?: string
      body?: string | Uint8Array
    }
  ) => Promise<globalThis.Response>
  close(): Promise<void>
}

/** Which archives to write: file name and records. */
export type ArchiveSet = Record<string, RecordSpec[]>

/** site.warc.gz (the main site) alone, or with other.wacz when `two` is set. */
export const archivesOf = (two = false): ArchiveSet =>
  two ? { 'site.warc.gz': SITE, 'other.wacz': OTHER } : { 'site.warc.gz': SITE }

/** Write `archives` and start a replay proxy over them. */
export async function startReplayProxy(archives: ArchiveSet = archivesOf()): Promise<ReplayProxy> {
  const { dir, cleanup } = await tempFolder()
  const paths: string[] = []
  for (const [name, specs] of Object.entries(archives)) {
    const path = join(dir, name)
    paths.push(
      name.endsWith('.wacz')
        ? await writeWacz(path, specs)
        : await writeWarc(path, specs, name.endsWith('.gz'))
    )
  }
  const warnings: string[] = []
  const replay = await openReplay(paths, { onWarning: (line) => warnings.push(line) })
  const running = await startProxy(replay.app, { resolver: replay.resolver })
  const caFile = join(dir, 'ca.pem')
  await writeFile(caFile, running.caPem)
  const agents: ProxyAgent[] = []
  return {
    running,
    replay,
    dir,
    caFile,
    warnings,
    get: async (url, { user, headers, method, body } = {}) => {
      const agent = new ProxyAgent({
        uri: running.url,
        requestTls: { ca: running.caPem },
        ...(user && { token: `Basic ${Buffer.from(`${user}:any`).toString('base64')}` }),
      })
      agents.push(agent)
      return (await fetch(url, {
        dispatcher: agent,
        headers,
        method,
        body,
      })) as unknown as globalThis.Response
    },
    async close() {
      await Promise.all(agents.map((agent) => agent.close()))
      await running.close()
      await replay.close()
      await cleanup()
    },
  }
}
