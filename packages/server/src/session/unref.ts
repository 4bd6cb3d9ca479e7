/** Lets the process exit with this timer pending, where the runtime has the notion (Node, Bun). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
