import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'

/**
 * scripts/lib/apt.sh waits for the locks another apt-get or dpkg holds,
 * instead of failing on them (issue 17: `pnpm test` once failed on a fresh
 * machine because `apt-get install chromium` met another apt process).
 * A Python child holds the real locks with fcntl, as apt and dpkg take
 * them, for a few seconds; `apt_install` of a package that is already
 * installed must succeed, and must have waited. It runs as root, or through
 * passwordless sudo; without either it fails and says so.
 */

const root = fileURLToPath(new URL('../..', import.meta.url))
const LISTS_LOCK = '/var/lib/apt/lists/lock'
const FRONTEND_LOCK = '/var/lib/dpkg/lock-frontend'
const ARCHIVES_LOCK = '/var/cache/apt/archives/lock'
/** A tiny package every Debian system has installed (it is Essential). */
const INSTALLED = 'hostname'

/** How to run a command as root: as is, or through `sudo -n`; throws with what is missing otherwise. */
function asRoot(): string[] {
  if (process.getuid?.() === 0) return []
  if (spawnSync('sudo', ['-n', 'true']).status === 0) return ['sudo', '-n']
  throw new Error('the apt lock test takes the locks of /var/lib/dpkg and /var/lib/apt: run it as root, or with passwordless sudo')
}

/** Runs `command` to its end (killed after `timeoutMs`): its exit code, output and how long it took. */
function run(command: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  const child = spawn(command[0]!, command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)))
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) =>
    child.once('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr, ms: performance.now() - started })
    }),
  )
}

/** The holder: takes each lock with fcntl (what apt and dpkg use), says so, and lets each go after its seconds. */
const HOLDER = `
import fcntl, sys, time
held = []
for arg in sys.argv[1:]:
    path, seconds = arg.rsplit('=', 1)
    f = open(path, 'a')
    fcntl.lockf(f, fcntl.LOCK_EX)
    held.append((float(seconds), f))
print('held', flush=True)
start = time.monotonic()
for seconds, f in sorted(held, key=lambda h: h[0]):
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    f.close()
`

/**
 * Holds `locks` (path → seconds) in a child process; resolves once they are
 * all taken, with the moment they were. Killed after the test if still alive.
 */
async function holdLocks(locks: Record<string, number>): Promise<{ child: ChildProcess; heldAt: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'apt-lock-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'hold.py')
  writeFileSync(script, HOLDER)
  const [command, ...prefix] = [...asRoot(), 'python3']
  const child = spawn(command!, [...prefix, script, ...Object.entries(locks).map(([path, seconds]) => `${path}=${seconds}`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock holder did not take its locks within 10 s')), 10_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      if (String(chunk).includes('held')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before it held its locks`)))
  })
  return { child, heldAt: performance.now() }
}

/** `apt_install` as the ensure-*.sh scripts call it, with their `fail`. */
const aptInstall = (packageName: string) => [
  'bash',
  '-c',
  `set -euo pipefail; source scripts/lib/apt.sh; fail() { echo "$*" >&2; exit 1; }; apt_install "a test" ${packageName}`,
]

describe('scripts/lib/apt.sh', { timeout: 120_000 }, () => {
  it('waits for the apt lists lock (apt-get update) and the dpkg frontend lock (apt-get install), then succeeds', async () => {
    const { heldAt } = await holdLocks({ [LISTS_LOCK]: 2, [FRONTEND_LOCK]: 4 })
    const result = await run(aptInstall(INSTALLED), 110_000)
    expect(result.status, result.stderr).toBe(0)
    // Without the wait, `apt-get update` fails at once on the lists lock ("Could not get lock").
    expect(result.stderr).toContain(`waiting for another apt-get or dpkg to release ${LISTS_LOCK}`)
    // The install went on past the lists lock, and waited for dpkg's (DPkg::Lock::Timeout) until it was let go.
    expect(performance.now() - heldAt).toBeGreaterThanOrEqual(4_000)
    expect(result.stdout).toContain(INSTALLED)
  })

  it('waits for the apt archives lock (a download), then succeeds', async () => {
    const { heldAt } = await holdLocks({ [ARCHIVES_LOCK]: 3 })
    const result = await run(aptInstall(INSTALLED), 110_000)
    expect(result.status, result.stderr).toBe(0)
    expect(performance.now() - heldAt).toBeGreaterThanOrEqual(3_000)
  })

  it('apt_lock_held asks with F_GETLK: true while another process holds the lock, false once it is free or when there is no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apt-probe-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'lock')
    writeFileSync(file, '')
    const probe = (path: string) => run(['bash', '-c', 'source scripts/lib/apt.sh; apt_lock_held "$1"', 'probe', path], 10_000)
    expect((await probe(file)).status).toBe(1)
    expect((await probe(join(dir, 'missing'))).status).toBe(1)
    const { child } = await holdLocks({ [file]: 3 })
    expect((await probe(file)).status).toBe(0)
    // Asking did not take the lock from its holder, which still has it.
    expect(child.exitCode).toBe(null)
    expect((await probe(file)).status).toBe(0)
    await new Promise((resolve) => child.once('exit', resolve))
    expect((await probe(file)).status).toBe(1)
  })
})
