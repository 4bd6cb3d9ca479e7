import { main } from './cli/main'

// The `wirecall` bin. Ctrl-C and SIGTERM abort the signal the commands get,
// so `subscribe` unsubscribes before it exits; a second Ctrl-C exits at once.
const stop = new AbortController()
let interrupted = false
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    stop.abort()
  })
}
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signal: stop.signal }).then(
  (status) => {
    process.exitCode = status
  },
  (error: unknown) => {
    process.stderr.write(`wirecall: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  },
)
