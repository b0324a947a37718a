import { execFileSync } from 'node:child_process'
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'
import { MAX_CA_FILE_BYTES } from '../../src/ca/store'
import { CaFileError } from '../../src/errors'
import { createProxy } from '../../src/proxy'
import { echoApp } from '../helpers/apps'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgiprox-file-kinds-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the CA file', () => {
  it('refuses a dangling symbolic link with one line, and writes nothing', async () => {
    const file = join(dir, 'ca.pem')
    await symlink(join(dir, 'missing', 'target.pem'), file)
    const opening = CertificateAuthority.open({ file })
    await expect(opening).rejects.toThrow(CaFileError)
    await expect(opening).rejects.toThrow(
      /is a symbolic link to .*target\.pem, which does not exist/
    )
  })

  it('loads a CA through a symbolic link to an existing file', async () => {
    const target = join(dir, 'real.pem')
    const created = await CertificateAuthority.open({ file: target })
    await symlink(target, join(dir, 'link.pem'))
    const loaded = await CertificateAuthority.open({ file: join(dir, 'link.pem') })
    expect(loaded.fingerprint256).toBe(created.fingerprint256)
    expect(loaded.created).toBe(false)
  })

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const file = join(dir, 'ca.pem')
    execFileSync('mkfifo', [file])
    await expect(CertificateAuthority.open({ file })).rejects.toThrow(/is not a regular file/)
  })

  it('refuses a file over the size limit without reading it', async () => {
    // Sparse: 1.5 GB on paper, no blocks on disk. Read whole, it took 640 MB and 10 s.
    const file = join(dir, 'ca.pem')
    await writeFile(file, '')
    await truncate(file, 1500 * 1024 * 1024)
    const before = process.memoryUsage().rss
    const opening = CertificateAuthority.open({ file })
    await expect(opening).rejects.toThrow(CaFileError)
    await expect(opening).rejects.toThrow(
      `CA file ${file}: is too large (1572864000 bytes): a CA file may hold at most ${MAX_CA_FILE_BYTES} bytes (1 MiB)`
    )
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024)
    expect((await stat(file)).size).toBe(1500 * 1024 * 1024)
  })

  it('reads a file just under the size limit, and refuses one just over it', async () => {
    const file = join(dir, 'ca.pem')
    await CertificateAuthority.open({ file })
    const pem = await readFile(file, 'utf8')
    // PEM readers skip text outside the blocks: padding keeps the CA usable.
    await writeFile(file, pem.padEnd(MAX_CA_FILE_BYTES, '\n'))
    expect((await CertificateAuthority.open({ file })).created).toBe(false)
    await writeFile(file, pem.padEnd(MAX_CA_FILE_BYTES + 1, '\n'))
    await expect(CertificateAuthority.open({ file })).rejects.toThrow(/is too large/)
  })

  it('warns, through onError, about a key that group or others may read', async () => {
    const file = join(dir, 'ca.pem')
    expect((await CertificateAuthority.open({ file })).warnings).toEqual([])
    await chmod(file, 0o644)
    const ca = await CertificateAuthority.open({ file })
    expect(ca.warnings).toEqual([
      `CA file ${file}: its private key may be read by group or others (mode 644); run chmod 600 ${file}`,
    ])
    const reports: string[] = []
    const proxy = createProxy(echoApp(), {
      ca: { file },
      onError: (error, context) => reports.push(`${context.phase}: ${error.message}`),
    })
    await proxy.getCertificateAuthority()
    expect(reports).toEqual([`ca: ${ca.warnings[0] ?? ''}`])
    expect(await readFile(file, 'utf8')).toContain('PRIVATE KEY')
  })

  it.each([
    ['666', 0o666],
    ['602', 0o602],
  ])('refuses a file every user may write (mode %s), naming the fix', async (shown, mode) => {
    const file = join(dir, 'ca.pem')
    await CertificateAuthority.open({ file })
    const text = await readFile(file, 'utf8')
    await chmod(file, mode)
    await expect(CertificateAuthority.open({ file })).rejects.toThrow(
      `CA file ${file}: may be written by every user (mode ${shown}): chmod 600 ${file}`
    )
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  it('warns of a file its group may write, without calling it readable', async () => {
    const file = join(dir, 'ca.pem')
    await CertificateAuthority.open({ file })
    await chmod(file, 0o620)
    expect((await CertificateAuthority.open({ file })).warnings).toEqual([
      `CA file ${file}: may be written by its group (mode 620): chmod 600 ${file}`,
    ])
  })

  it.skipIf(process.getuid?.() !== 0)('warns of a file another user owns', async () => {
    const file = join(dir, 'ca.pem')
    await CertificateAuthority.open({ file })
    await chown(file, 4321, 4321)
    expect((await CertificateAuthority.open({ file })).warnings).toEqual([
      `CA file ${file}: belongs to another user (uid 4321)`,
    ])
  })

  it('refuses a file in a folder every user may write, and creates none there', async () => {
    const folder = join(dir, 'shared')
    await mkdir(folder)
    const file = join(folder, 'ca.pem')
    await CertificateAuthority.open({ file })
    await chmod(folder, 0o777)
    const refusal = `CA file ${file}: its folder ${folder} may be written by every user (mode 777, no sticky bit): chmod go-w ${folder}`
    await expect(CertificateAuthority.open({ file })).rejects.toThrow(refusal)
    await rm(file)
    await expect(CertificateAuthority.open({ file })).rejects.toThrow(refusal)
    expect(await readdir(folder)).toEqual([])
  })

  it('uses a file in a folder every user may write with the sticky bit, as /tmp', async () => {
    const folder = join(dir, 'sticky')
    await mkdir(folder)
    await chmod(folder, 0o1777)
    const file = join(folder, 'ca.pem')
    expect((await CertificateAuthority.open({ file })).warnings).toEqual([])
    expect((await CertificateAuthority.open({ file })).warnings).toEqual([])
  })
})
