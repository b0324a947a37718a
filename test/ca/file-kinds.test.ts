import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'
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
})
