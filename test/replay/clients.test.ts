/**
 * curl and Python's requests replay the same archived pages, picking the collection by proxy
 * user name and verifying TLS against the CA file, as a user who trusted it would.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { ReplayProxy } from './helpers/replay-proxy'
import { archivesOf, startReplayProxy } from './helpers/replay-proxy'
import { PAGE_HOST, STATIC_HOST, VIDEO } from './helpers/site'

const run = promisify(execFile)
/** Debian's python3, where .ci/run installs python3-requests. */
const PYTHON = '/usr/bin/python3'

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy(archivesOf(true))
})
afterAll(async () => {
  await proxy.close()
})

const login = (user: string) => proxy.running.url.replace('://', `://${user}:any@`)

describe('curl on the replay proxy', () => {
  it('replays the archived https page of the collection named by the user name', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      proxy.caFile,
      '-x',
      login('site'),
      `https://${PAGE_HOST}/`,
    ])
    expect(stdout).toContain('Archived in 2023')
    const other = await run('curl', [
      '-sS',
      '--cacert',
      proxy.caFile,
      '-x',
      login('other'),
      `https://${PAGE_HOST}/`,
    ])
    expect(other.stdout).toContain('from the other archive')
  })

  it('gets 206 for a range of the video and follows the captured redirect', async () => {
    const range = await run(
      'curl',
      [
        '-sS',
        '--cacert',
        proxy.caFile,
        '-x',
        login('site'),
        '-r',
        '100-199',
        '-w',
        '%{http_code}',
        '-o',
        '-',
        `https://${PAGE_HOST}/video.mp4`,
      ],
      { encoding: 'buffer' }
    )
    expect(range.stdout.subarray(-3).toString()).toBe('206')
    expect(range.stdout.subarray(0, -3)).toEqual(VIDEO.subarray(100, 200))
    const { stdout } = await run('curl', [
      '-sSL',
      '--cacert',
      proxy.caFile,
      '-x',
      login('site'),
      `https://${PAGE_HOST}/old`,
    ])
    expect(stdout).toContain('moved here')
  })

  it('is asked for a collection without a user name', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-x',
      proxy.running.url,
      `http://${PAGE_HOST}/`,
    ])
    expect(stdout).toBe('407')
  })
})

describe('python requests on the replay proxy', () => {
  const script = `
import sys, requests
proxy, ca, url, when = sys.argv[1:5]
headers = {'Accept-Datetime': when} if when else {}
r = requests.get(url, proxies={'http': proxy, 'https': proxy}, verify=ca, headers=headers)
print(r.status_code, r.headers.get('Memento-Datetime'))
print(r.text)
`
  const python = async (user: string, url: string, when = '') =>
    (await run(PYTHON, ['-c', script, login(user), proxy.caFile, url, when])).stdout

  it('replays the page, its stylesheet and the capture Accept-Datetime picks', async () => {
    expect(await python('site', `https://${PAGE_HOST}/`)).toMatch(
      /^200 Mon, 01 May 2023 12:00:00 GMT\n[\s\S]*Archived in 2023/
    )
    expect(await python('site', `https://${PAGE_HOST}/`, 'Wed, 01 Jan 2020 10:00:00 GMT')).toMatch(
      /^200 Wed, 01 Jan 2020 00:00:00 GMT\n[\s\S]*Archived in 2020/
    )
    expect(await python('site', `https://${STATIC_HOST}/style.css`)).toContain('#heading')
    expect(await python('other', `https://${PAGE_HOST}/`)).toContain('from the other archive')
  })

  it('gets the 404 page for a URL the archive lacks', async () => {
    expect(await python('site', `https://${PAGE_HOST}/nowhere`)).toMatch(
      /^404 None\n[\s\S]*is not archived/
    )
  })
})
