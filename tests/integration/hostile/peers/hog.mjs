// A hostile peer in its own process, so that its own sending costs nothing
// to the server under test: opens a session, then sends `count` frames of
// about `size` characters as fast as its socket takes them, prints "sent"
// once they are all queued, and exits once each is answered or the server
// closes. Usage: node hog.mjs <url> <kind> <count> <size>
import WebSocket from 'ws'

const [url, kind, count, size] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])]

/**
 * One frame of `size` characters or a little less, a call whose input is
 * - flat: one long array of numbers;
 * - nested: as many arrays, nested 50 deep, as the server's default
 *   bounds let through (100,000 in a frame; deeper than the 64 levels a
 *   payload may have, so each call is refused after parsing), padded with a
 *   string to the size;
 * - too-deep: one value nested as deep as the frame is long.
 */
function frame(id) {
  const head = `{"type":"call","id":${id},"method":"mutation","path":"sink","input":`
  const room = size - head.length - 1
  if (kind === 'flat') return head + '[' + '1234567,'.repeat(Math.floor((room - 3) / 8)) + '0]}'
  if (kind === 'nested') {
    const unit = '['.repeat(50) + ']'.repeat(50)
    const units = Array(1_990).fill(unit).join(',')
    return head + '[' + units + ',"' + 'x'.repeat(room - units.length - 5) + '"]}'
  }
  const depth = Math.floor((room - 1) / 2)
  return head + '['.repeat(depth) + ']'.repeat(depth) + '}'
}

const ws = new WebSocket(url, 'wirecall.v1')
ws.on('error', () => {})
ws.on('close', () => process.exit(0))
ws.on('open', () => ws.send('{"type":"init"}'))
let answered = 0
ws.on('message', (data) => {
  const text = String(data)
  if (text.includes('"ack"')) {
    for (let i = 1; i <= count; i++) ws.send(frame(i))
    console.log('sent')
    return
  }
  // Answers carry no nested data here: count them by their ids.
  answered += (text.match(/"id":/g) ?? []).length
  if (answered >= count) ws.close()
})
