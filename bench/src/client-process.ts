/**
 * Entry of the client child process: `client-process.ts <impl> <case>
 * <full|quick>`, forked by main.ts with IPC while the server starts. Loads
 * its library, waits for `start` with the server's port, prepares the case
 * (connects, warms up), says `ready`, runs the measured part on `go`, reports `done`
 * with its CPU time, and closes everything on `close`. Any error, or any
 * uncaught exception (a library failing a subscription after it started),
 * is reported as `failed`.
 */
import { hrtime } from 'node:process'
import { CASES, CASE_NAMES, type CaseName } from './cases/index'
import { IMPLS, type ImplName } from './contract'
import { loadImpl } from './impls/index'
import { describeError, exitWithParent, sendToParent, type ToClient } from './ipc'

/** The next message from the orchestrator of the given type. */
function nextMessage<T extends ToClient['type']>(type: T): Promise<Extract<ToClient, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ToClient) => {
      if (message.type !== type) return
      process.off('message', onMessage)
      resolve(message as Extract<ToClient, { type: T }>)
    }
    process.on('message', onMessage)
  })
}

async function main(): Promise<void> {
  exitWithParent()
  const [implName, caseName, scale] = process.argv.slice(2)
  if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${String(implName)}`)
  if (!CASE_NAMES.includes(caseName as CaseName)) throw new Error(`unknown case ${String(caseName)}`)
  const benchCase = CASES[caseName as CaseName]

  const start = nextMessage('start')
  const go = nextMessage('go')
  const close = nextMessage('close')
  // Messages sent before a listener exists are lost: the orchestrator waits for this before sending 'start'.
  await sendToParent({ type: 'listening' })
  const impl = await loadImpl(implName as ImplName)
  const { port } = await start
  const prepared = await benchCase.prepare({ impl, port, quick: scale === 'quick' })
  // Warm-up garbage is collected now, not in the measured part.
  globalThis.gc?.()
  await sendToParent({ type: 'ready' })
  await go

  const cpuStart = process.cpuUsage()
  const startedAt = hrtime.bigint()
  const measured = await prepared.run()
  const elapsedNs = Number(hrtime.bigint() - startedAt)
  const cpu = process.cpuUsage(cpuStart)
  await sendToParent({
    type: 'done',
    ops: measured.ops,
    elapsedNs: measured.elapsedNs ?? elapsedNs,
    cpu,
    extra: measured.extra ?? {},
  })

  await close
  await prepared.close()
  await sendToParent({ type: 'closed' })
  // A normal exit, so that --cpu-prof writes its profile; libraries may hold timers.
  process.exit(0)
}

function fail(error: unknown): void {
  void sendToParent({ type: 'failed', error: describeError(error) })
    .catch(() => {})
    .finally(() => process.exit(1))
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
