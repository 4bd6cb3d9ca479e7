/**
 * Entry of the client process of one `inflight` or `payload` run:
 * `client.ts <impl> <mode> <size> <quick|full> <port> [ConnectOptions as JSON]`.
 * Connects, warms up (answers checked), says `ready`; on `go` makes the
 * measured calls and reports their count, time and CPU; closes on `close`.
 */
import { hrtime } from 'node:process'
import { IMPLS, type BenchConnection, type ConnectOptions, type ImplName } from '../../contract'
import { loadImpl } from '../../impls/index'
import { runChild, tell } from '../child-ipc'
import type { FromCallsClient, ToCallsClient } from './messages'
import { pipeline } from '../../cases/pipeline'
import { workload, type CallsMode, type Workload } from './workloads'

const [implName, mode, sizeText, scale, portText, connectText] = process.argv.slice(2)
const reply = (message: FromCallsClient) => tell(message)
let connection: BenchConnection
let work: Workload

runChild<ToCallsClient>(
  async () => {
    if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${String(implName)}`)
    if (mode !== 'inflight' && mode !== 'payload') throw new Error(`unknown mode ${String(mode)}`)
    const size = Number(sizeText)
    work = workload(mode as CallsMode, size, scale === 'quick', `${mode}/${implName} at ${size}`)
    const impl = await loadImpl(implName as ImplName)
    connection = await impl.connect(Number(portText), JSON.parse(connectText ?? '{}') as ConnectOptions)
    await pipeline(0, work.warmup, work.inFlight, (id) => work.call(connection, id))
    // Warm-up garbage is collected now, not in the measured part.
    globalThis.gc?.()
    await reply({ type: 'ready' })
  },
  async (message) => {
    switch (message.type) {
      case 'go': {
        const cpu = process.cpuUsage()
        const started = hrtime.bigint()
        await pipeline(work.warmup, work.measured, work.inFlight, (id) => work.call(connection, id))
        const elapsedNs = Number(hrtime.bigint() - started)
        const used = process.cpuUsage(cpu)
        return reply({ type: 'done', calls: work.measured, elapsedNs, cpuUs: used.user + used.system })
      }
      case 'close':
        await connection.close()
        return reply({ type: 'closed' })
      case 'exit':
        // Libraries may hold timers; the connection is closed.
        return process.exit(0)
    }
  },
)
