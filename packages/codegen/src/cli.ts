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
// A reader that went away (`wirecall subscribe … | head -3`) ends the command as Ctrl-C does
// (`subscribe` unsubscribes and exits 0) instead of an EPIPE crash; later writes are dropped.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') process.stderr.write(`wirecall: cannot write to stdout: ${error.message}\n`)
  stop.abort()
})
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signal: stop.signal }).then(
  (status) => {
    process.exitCode = status
  },
  (error: unknown) => {
    process.stderr.write(`wirecall: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  },
)
