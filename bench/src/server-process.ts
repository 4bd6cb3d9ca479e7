/**
 * Entry of the server child process: `server-process.ts <impl> [options]`,
 * forked by main.ts (or a scale case) with IPC and `--expose-gc`; `options`
 * is a {@link ServeOptions} object as JSON. Serves the implementation on
 * 127.0.0.1, says `ready` with its port, then answers the orchestrator's
 * CPU and memory questions until it is told to close.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { IMPLS, type ImplName, type ServeOptions } from './contract'
import { loadImpl } from './impls/index'
import { describeError, exitWithParent, sendToParent, type MemorySample, type ToServer } from './ipc'
import { processStatus, raiseOpenFiles } from './proc-status'

/** `process.memoryUsage()` once garbage has been collected and has settled: gc twice, 100 ms apart. */
async function settledMemory(): Promise<MemorySample> {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('the server process needs --expose-gc')
  gc()
  await sleep(100)
  gc()
  await sleep(100)
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, heapTotal, external, arrayBuffers }
}

async function main(): Promise<void> {
  exitWithParent()
  const name = process.argv[2]
  if (!IMPLS.includes(name as ImplName)) throw new Error(`unknown implementation ${String(name)}`)
  const options = JSON.parse(process.argv[3] ?? '{}') as ServeOptions
  // Before any socket: a scale case asks for more than the default limit may allow (`status` tells what it got).
  if (options.openFiles !== undefined) raiseOpenFiles(options.openFiles)
  const server = await (await loadImpl(name as ImplName)).serve(options)

  process.on('message', (message: ToServer) => {
    void (async () => {
      switch (message.type) {
        case 'cpu':
          return sendToParent({ type: 'cpu', usage: process.cpuUsage() })
        case 'memory':
          return sendToParent({ type: 'memory', usage: await settledMemory() })
        case 'status':
          return sendToParent({ type: 'status', status: processStatus() })
        case 'close':
          await server.close()
          // A normal exit, so that --cpu-prof writes its profile.
          return process.exit(0)
      }
    })().catch(fail)
  })
  await sendToParent({ type: 'ready', port: server.port })
}

function fail(error: unknown): void {
  void sendToParent({ type: 'failed', error: `server: ${describeError(error)}` })
    .catch(() => {})
    .finally(() => process.exit(1))
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
