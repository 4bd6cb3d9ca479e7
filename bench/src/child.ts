/**
 * A forked child process (server or client of one run) seen from the
 * orchestrator: typed IPC messages, a timeout on every wait, its output
 * forwarded with a label, and a registry so that every child can be killed
 * on failure or Ctrl-C.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

const live = new Set<Child<object, { type: string }>>()

/** Kills every child still running (SIGKILL: nothing must outlive the orchestrator). */
export function killAllChildren(): void {
  for (const child of live) child.kill()
}

/** On Ctrl-C or a kill, kills every child before the orchestrator exits (130): no child may outlive it. */
export function killChildrenOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren()
      process.stderr.write(`\n${signal}: stopped, every child process killed\n`)
      process.exit(130)
    })
  }
}

/** A child's failure, already described with its label. */
export class ChildFailure extends Error {
  override name = 'ChildFailure'
}

interface Waiter<Out> {
  type: string
  resolve(message: Out): void
  reject(error: Error): void
}

/** One child process speaking `Out` messages and listening to `In` messages. */
export class Child<In extends object, Out extends { type: string }> {
  private readonly process: ChildProcess
  private readonly queue: Out[] = []
  private readonly waiters = new Set<Waiter<Out>>()
  private failure: Error | undefined
  private readonly tail: string[] = []
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>
  /** Rejects when the child fails or exits; never resolves. For racing waits on the other child. */
  readonly failed: Promise<never>
  private rejectFailed: (error: Error) => void = () => {}

  constructor(
    readonly label: string,
    file: string,
    args: string[],
    execArgv: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject
    })
    this.failed.catch(() => {}) // only raced against; unobserved otherwise
    this.process = fork(file, args, { execArgv, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    live.add(this)
    for (const stream of [this.process.stdout, this.process.stderr]) {
      if (stream === null) continue
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line)
        if (this.tail.length > 30) this.tail.shift()
        process.stderr.write(`  [${label}] ${line}\n`)
      })
    }
    this.process.on('message', (message: Out | { type: 'failed'; error: string }) => {
      if (message.type === 'failed' && 'error' in message) return this.fail(new ChildFailure(`${label} failed: ${message.error}`))
      const waiter = [...this.waiters].find((w) => w.type === message.type)
      if (waiter === undefined) this.queue.push(message as Out)
      else waiter.resolve(message as Out)
    })
    this.exited = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        live.delete(this)
        this.fail(new ChildFailure(`${label} exited (${code ?? signal}) while the orchestrator waited for it${this.output()}`))
        resolve(code ?? signal ?? 'unknown')
      })
    })
    this.process.once('error', (error) => this.fail(new ChildFailure(`${label}: ${error.message}`)))
  }

  /** The last lines the child printed, for an error message. */
  private output(): string {
    return this.tail.length === 0 ? '' : `; its last output:\n${this.tail.join('\n')}`
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.rejectFailed(this.failure)
    for (const waiter of this.waiters) waiter.reject(this.failure)
  }

  /** The next message of `type` (queued or to come); rejects on a failure, an exit, or after `timeoutMs`. */
  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const index = this.queue.findIndex((message) => message.type === type)
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0] as Extract<Out, { type: T }>)
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(() => reject(new ChildFailure(`${this.label}: no '${type}' within ${timeoutMs / 1000} s${this.output()}`))), timeoutMs)
      const settle = (then: () => void) => {
        clearTimeout(timer)
        this.waiters.delete(waiter)
        then()
      }
      const waiter: Waiter<Out> = {
        type,
        resolve: (message) => settle(() => resolve(message as Extract<Out, { type: T }>)),
        reject: (error) => settle(() => reject(error)),
      }
      this.waiters.add(waiter)
    })
  }

  send(message: In): void {
    if (this.failure !== undefined) throw this.failure
    this.process.send(message)
  }

  /** Sends `message` and waits for the answer of type `type`. */
  request<T extends Out['type']>(message: In, type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const answer = this.next(type, timeoutMs)
    this.send(message)
    return answer
  }

  /** Waits for the process to exit by itself; kills it after `timeoutMs`. */
  async exit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const outcome = await Promise.race([this.exited, timeout])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      this.kill()
      throw new ChildFailure(`${this.label} did not exit within ${timeoutMs / 1000} s after closing`)
    }
    if (outcome !== 0) throw new ChildFailure(`${this.label} exited with ${outcome}${this.output()}`)
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL')
  }
}
