/** A message id from a client (`"42"`), or `undefined` for anything else (an event id of another store, garbage). */
export function parseMessageId(id: string | undefined): number | undefined {
  if (id === undefined || !/^(0|[1-9]\d{0,14})$/.test(id)) return undefined
  return Number(id)
}
