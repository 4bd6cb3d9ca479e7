import { io } from 'socket.io-client'

/**
 * Bundle entry: the small app every library's entry does (a client to
 * ws://host, one request answered, one mutation-like request, a stream
 * of events, the connection state), written with socket.io-client v4:
 * websocket transport only (as the benchmark runs it), emit with an ack for
 * calls, `on` for pushed events. socket.io has no typed router: event
 * payloads are whatever the app says they are.
 */

const socket = io(`ws://${location.host}`, { transports: ['websocket'] })
const out = document.createElement('pre')
document.body.append(out)
const show = (value: unknown) => (out.textContent += `${String(value)}\n`)

socket.on('connect', () => (document.title = 'open'))
socket.on('disconnect', () => (document.title = 'reconnecting'))
socket.on('connect_error', (error) => show(error.message))
socket.emit('echo', { id: 1, name: 'user-1', active: false, score: 0.5, tags: ['a', 'b', 'c'] }, (result: { name: string }) => show(result.name))
socket.emit('publish', { count: 10, burst: 5 }, (result: { published: number }) => show(result.published))
socket.on('feed', (event: { seq: number }) => show(event.seq))
socket.emit('feed:subscribe')
