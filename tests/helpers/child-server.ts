import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * Servers in child processes, for tests that kill them with SIGKILL and
 * start them again on the same port (a crash, a deploy): the examples'
 * browser tests and the TanStack Query restart test.
 */

/** A port on 127.0.0.1 that was free a moment ago (the child binds it, and binds it again after the kill). */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** How to start one child server. */
export interface ChildServerOptions {
  /** Arguments to `node`: a script, or `['--import', 'tsx', 'src/main.ts']` (one process, so SIGKILL really kills the server). */
  args: string[]
  cwd?: string
  /** Added to this process's environment. */
  env?: Record<string, string>
  /** Text the child prints on stdout or stderr once it serves. */
  readyText: string
  /** For error messages: "the <name> server did not start...". */
  name: string
  /** @default 15_000 */
  timeoutMs?: number
}

/** Starts a server in a child Node process; resolves once it prints `readyText`. Killed with SIGKILL after the test if still running. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildProcess> {
  const { args, cwd, env, readyText, name, timeoutMs = 15_000 } = options
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} server did not start within ${timeoutMs / 1_000} s:\n${output}`)), timeoutMs)
    const read = (chunk: Buffer) => {
      output += String(chunk)
      if (output.includes(readyText)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the ${name} server exited (${code ?? signal}) before it served:\n${output}`))
    })
  })
  return child
}

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}
