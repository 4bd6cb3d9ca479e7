import type { ApiChange } from './compare-manifests'

/** The label column: `BREAKING`, `added` (a new procedure), `additive` (a compatible change). */
function label(change: ApiChange): string {
  return change.breaking ? 'BREAKING' : change.added === true ? 'added' : 'additive'
}

/** One line of the `api check` list: `BREAKING post.add input: new required field "title"`, `added    post.remove (mutation)`. */
export function formatChange(change: ApiChange): string {
  const where = change.where === '' ? '' : ` ${change.where}`
  const separator = change.added === true ? ' ' : ': '
  return `${label(change).padEnd(8)} ${change.path}${where}${separator}${change.message}`
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** The summary line after the list; `lock` is how the user named the lock file, `relock` the command that rewrites it. */
export function formatSummary(changes: readonly ApiChange[], lock: string, relock: string): string {
  const breaking = changes.filter((change) => change.breaking).length
  const additive = changes.length - breaking
  if (changes.length === 0) return `api check: no API changes against ${lock}`
  if (breaking === 0) return `api check: ${count(additive, 'additive change', 'additive changes')} against ${lock}, all compatible; run \`${relock}\` to record them`
  const parts = [count(breaking, 'breaking change', 'breaking changes'), ...(additive > 0 ? [count(additive, 'additive change', 'additive changes')] : [])]
  return `api check: ${parts.join(', ')} against ${lock}: consumers built against it may fail; if that is intended, release it as such and run \`${relock}\``
}
