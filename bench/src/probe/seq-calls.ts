/**
 * One implementation's server or client, standalone (no IPC), for looking
 * at one sequential call with tools outside JavaScript (strace, perf):
 *
 *   tsx src/probe/seq-calls.ts server <impl> <port>
 *   tsx src/probe/seq-calls.ts client <impl> <port> <calls>
 *
 * The client makes <calls> echo calls one at a time after PROBE_WARMUP
 * (default 500) warm-up calls
 * and prints p50/p99 in µs. The server runs until SIGTERM/SIGINT. With
 * PROBE_PAUSE_MS set, the client waits that long after its warm-up, so a
 * tool can attach to both processes for the measured calls only
 * (bench/scripts/syscalls-per-call.sh does).
 */
import { hrtime } from 'node:process'
import { echoInput, isEcho, IMPLS, type ImplName } from '../contract'
import { loadImpl } from '../impls/index'
import { percentile } from '../stats'

const [role, implName, portText, callsText] = process.argv.slice(2)
if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${String(implName)}`)
const impl = await loadImpl(implName as ImplName)
const port = Number(portText)

if (role === 'server') {
  const server = await impl.serve({ port })
  process.stdout.write(`listening ${server.port}\n`)
  const stop = () => void server.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} else {
  const calls = Number(callsText ?? 10_000)
  const connection = await impl.connect(port)
  const call = async (id: number) => {
    const output = await connection.echo(echoInput(id))
    if (!isEcho(output, id)) throw new Error(`echo ${id}: wrong answer`)
  }
  // PROBE_WARMUP: calls before the measured ones (default 500, as the bench's latency case).
  const warmup = Number(process.env.PROBE_WARMUP ?? 500)
  for (let id = 0; id < warmup; id++) await call(id)
  // PROBE_PAUSE_MS: time to attach strace/perf to both processes before the measured calls.
  const pause = Number(process.env.PROBE_PAUSE_MS ?? 0)
  process.stdout.write(`warm ${process.pid}\n`)
  if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause))
  process.stdout.write('measuring\n')
  const micros = new Float64Array(calls)
  const cpu = process.cpuUsage()
  for (let i = 0; i < calls; i++) {
    const start = hrtime.bigint()
    await call(warmup + i)
    micros[i] = Number(hrtime.bigint() - start) / 1_000
  }
  const used = process.cpuUsage(cpu)
  micros.sort()
  process.stdout.write(`${implName}: p50 ${percentile(micros, 0.5).toFixed(1)} µs, p99 ${percentile(micros, 0.99).toFixed(1)} µs, client CPU ${((used.user + used.system) / calls).toFixed(1)} µs/call\n`)
  await connection.close()
  process.exit(0)
}
