/**
 * The environment in which Jazzer.js's libFuzzer addon loads. @jazzer.js/fuzzer 4.0.0 ships one
 * prebuilt addon per platform, linked against glibc 2.38 and libstdc++ 13 (`__isoc23_strtol`,
 * `__isoc23_strtoul`, `std::ios_base_library_init`). On an older glibc such as Debian 12's 2.36
 * it does not load, and earlier releases download their addon from outside the npm registry at
 * install time. There, the addon's references to those two library versions are marked weak
 * (an ELF flag the dynamic loader honours), and a shim built from compat/glibc-2.36.cc with g++
 * supplies the three symbols through LD_PRELOAD. Where the addon loads as shipped, nothing is
 * changed.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const ROOT = dirname(import.meta.dirname)
const SHIM_SOURCE = join(import.meta.dirname, 'compat', 'glibc-2.36.cc')
const SHIM = join(ROOT, '.cache', 'fuzz', 'libjazzer-glibc-2.36.so')
/** The versions the addon needs and an older system lacks. */
const NEWER_VERSIONS = ['GLIBC_2.38', 'GLIBCXX_3.4.32']

/** The addon for this platform inside the installed @jazzer.js/fuzzer. */
export function addonPath(): string {
  const require = createRequire(import.meta.url)
  const fuzzer = dirname(require.resolve('@jazzer.js/fuzzer/package.json'))
  return join(fuzzer, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`)
}

/** Why the addon does not load in `env`, or `undefined` when it does. */
function loadError(addon: string, env: NodeJS.ProcessEnv): string | undefined {
  // Every symbol bound at load: with lazy binding a missing one would only show mid-run.
  const { status, stderr } = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(addon)})`],
    {
      env: { ...env, LD_BIND_NOW: '1' },
      encoding: 'utf8',
    }
  )
  return status === 0 ? undefined : (/Error: (.*)/.exec(stderr)?.[1] ?? stderr)
}

/**
 * Set VER_FLG_WEAK on the version references named in `versions` (ELF64, little-endian): the
 * loader then accepts a library without them, and binds the symbols wherever they are defined.
 */
function markVersionsWeak(file: string, versions: readonly string[]): void {
  const elf = readFileSync(file)
  const sections = elf.readBigUInt64LE(0x28)
  const entrySize = elf.readUInt16LE(0x3a)
  const count = elf.readUInt16LE(0x3c)
  const section = (i: number) => {
    const at = Number(sections) + i * entrySize
    return {
      type: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 24)),
      link: elf.readUInt32LE(at + 40),
    }
  }
  const SHT_GNU_VERNEED = 0x6ffffffe
  const VER_FLG_WEAK = 0x2
  for (let i = 0; i < count; i++) {
    const { type, offset, link } = section(i)
    if (type !== SHT_GNU_VERNEED) {
      continue
    }
    const strings = section(link).offset
    const name = (at: number) => elf.toString('latin1', strings + at, elf.indexOf(0, strings + at))
    // Elf64_Verneed: version, cnt, file, aux, next; Elf64_Vernaux: hash, flags, other, name, next.
    for (let need = offset, next = 1; next !== 0; need += next) {
      const auxCount = elf.readUInt16LE(need + 2)
      let aux = need + elf.readUInt32LE(need + 8)
      for (let j = 0; j < auxCount; j++) {
        if (versions.includes(name(elf.readUInt32LE(aux + 8)))) {
          elf.writeUInt16LE(elf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4)
        }
        aux += elf.readUInt32LE(aux + 12)
      }
      next = elf.readUInt32LE(need + 12)
    }
  }
  // A new file in its place: a process that has the old one loaded keeps it intact.
  writeFileSync(`${file}.tmp`, elf)
  renameSync(`${file}.tmp`, file)
}

/**
 * The environment to run Jazzer.js in: this process's own when the addon loads as shipped, else
 * one with the shim preloaded after the addon is adapted.
 * @throws Error naming the loader's complaint when neither works (another platform, no g++).
 */
export function jazzerEnv(): NodeJS.ProcessEnv {
  const addon = addonPath()
  const shipped = loadError(addon, process.env)
  if (shipped === undefined) {
    return process.env
  }
  if (
    process.platform !== 'linux' ||
    !NEWER_VERSIONS.some((version) => shipped.includes(version))
  ) {
    throw new Error(`the Jazzer.js addon does not load: ${shipped}`)
  }
  mkdirSync(dirname(SHIM), { recursive: true })
  if (!existsSync(SHIM) || statSync(SHIM).mtimeMs < statSync(SHIM_SOURCE).mtimeMs) {
    execFileSync('g++', ['-shared', '-fPIC', '-O2', '-o', SHIM, SHIM_SOURCE], { stdio: 'inherit' })
  }
  markVersionsWeak(addon, NEWER_VERSIONS)
  const env = {
    ...process.env,
    LD_PRELOAD: [SHIM, process.env.LD_PRELOAD].filter(Boolean).join(':'),
  }
  const adapted = loadError(addon, env)
  if (adapted !== undefined) {
    throw new Error(`the Jazzer.js addon does not load, even with the glibc 2.36 shim: ${adapted}`)
  }
  return env
}
