import { createRpcClient, isRpcError, type RpcClient, type Subscription } from '@wirecall/client'
import { Outbox } from './outbox'
import type { SessionChunk, SessionEvent } from './room-session'
import type { ChatMessage, RoomName } from './rooms'
import type { AppRouter } from './router'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) => {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

type Api = RpcClient<AppRouter>

/** How many messages a room shows when it opens. */
const HISTORY = 100
/** A typing indicator is renewed this often while the user types. */
const TYPING_RENEW_MS = 1_000
/** How long someone else's indicator shows without a renewal: it goes by itself when they stop or disappear. */
const TYPING_TTL_MS = 3_000
/** How long a room left with messages still unconfirmed keeps its session open for them. */
const DRAIN_MS = 120_000
/** How long to wait before opening a room's session again after it failed. */
const RETRY_MS = 2_000

// Who you are: ?name=ada in the URL (the sign-in form is a plain GET form that puts it there), so a
// reload keeps you signed in, and two windows side by side can be two people.
const nameInUrl = new URLSearchParams(location.search).get('name')?.trim() ?? ''
if (nameInUrl !== '') start(nameInUrl)
else askName()

function askName(problem = ''): void {
  $('app').hidden = true
  $('signin').hidden = false
  $('signin-error').textContent = problem
  $('me').textContent = ''
  const input = $<HTMLInputElement>('name')
  input.value = nameInUrl
  input.focus()
}

function start(name: string): void {
  const api: Api = createRpcClient<AppRouter>({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
    connectionParams: { name }, // checked by the server's createContext: a bad name closes with UNAUTHORIZED
    reconnect: { minDelayMs: 250, maxDelayMs: 3_000 }, // a demo: come back quickly once the server is up
    keepAlive: { intervalMs: 15_000, timeoutMs: 4_000 }, // and find a dead link (the browser went offline) within seconds
  })
  $('app').hidden = false
  $('me').textContent = `signed in as ${name}`
  watchConnection(api)
  void showRooms(api, name)
}

/** The badge in the header: the connection state, and when the next attempt is due while reconnecting. */
function watchConnection(api: Api): void {
  const badge = $('state')
  const retry = $('retry')
  let countdown: ReturnType<typeof setInterval> | undefined
  const show = (state: string) => {
    badge.textContent = state
    badge.dataset.state = state
    if (state === 'open') {
      clearInterval(countdown)
      retry.textContent = ''
    }
  }
  show(api.$connection.state)
  api.$connection.on('state', (state) => {
    show(state)
    const error = api.$connection.error
    if (state !== 'closed' || error === undefined) return
    if (error.code === 'UNAUTHORIZED') askName(error.message) // the server refused the name
    else retry.textContent = error.message
  })
  api.$connection.on('restart', ({ delayMs }) => {
    retry.textContent = `server restarting, back in ${(delayMs / 1_000).toFixed(1)} s`
  })
  api.$connection.on('reconnect', ({ attempt, delayMs }) => {
    clearInterval(countdown)
    const due = Date.now() + delayMs
    const tick = () => {
      const left = Math.max(0, due - Date.now())
      retry.textContent = `attempt ${attempt} in ${(left / 1_000).toFixed(1)} s`
      if (left === 0) clearInterval(countdown)
    }
    tick()
    countdown = setInterval(tick, 100)
  })
}

async function showRooms(api: Api, me: string): Promise<void> {
  let rooms: { name: RoomName; title: string }[]
  try {
    rooms = await api.rooms.list.query()
  } catch (error) {
    $('room-title').textContent = describe(error)
    return
  }
  const list = $('rooms')
  const buttons = new Map<RoomName, HTMLButtonElement>()
  for (const room of rooms) {
    const button = el('button', { type: 'button' }, `# ${room.name}`, el('small', {}, room.title))
    button.addEventListener('click', () => {
      location.hash = room.name
    })
    buttons.set(room.name, button)
    list.append(el('li', {}, button))
  }
  const roomFromHash = (): RoomName => rooms.find((room) => `#${room.name}` === location.hash)?.name ?? 'general'
  let view: RoomView | undefined
  const open = () => {
    const name = roomFromHash()
    if (view?.room === name) return
    view?.close()
    for (const [room, button] of buttons) button.setAttribute('aria-current', String(room === name))
    $('room-title').replaceChildren(`# ${name}`, el('small', {}, rooms.find((room) => room.name === name)!.title))
    view = new RoomView(api, name, me)
  }
  addEventListener('hashchange', open)
  open()
  composer(() => view)
}

/** A message the page sent and the server has not confirmed yet: shown greyed out. */
interface Pending {
  text: string
  item: HTMLLIElement
}

/**
 * One open room: its history, then a duplex session (`room.session`)
 * resumed from the history's last id (so no message falls between the two
 * and none comes twice); and who is in it (`presence.feed`). The session
 * carries both ways what happens in the room: the page streams its typing
 * indicators and messages into it, in the order the user made them, and
 * gets the room's messages and typing events back in the order they
 * happened. Closing the view ends both subscriptions (which takes the user
 * out of the room's presence); a session with messages still unconfirmed
 * stays open, unseen, until they are.
 */
class RoomView {
  readonly #messages = $('messages')
  readonly #presence: Subscription
  /** Sent and not yet back from the room, by key: a message comes back with its key. */
  readonly #pending = new Map<string, Pending>()
  /** Who else is typing, with the timer that takes their indicator down. */
  readonly #typing = new Map<string, ReturnType<typeof setTimeout>>()
  #session: { subscription: Subscription; outbox: Outbox<SessionChunk> } | undefined
  /** The key of the message being written: its typing chunks announce it, and it is sent with it. */
  #draftKey: string | undefined
  #lastId = 0
  #closed = false

  constructor(
    readonly api: Api,
    readonly room: RoomName,
    readonly me: string,
  ) {
    this.#messages.replaceChildren()
    $('pending').replaceChildren()
    $('online').replaceChildren()
    $('typing').textContent = ''
    void this.#load()
    this.#presence = api.presence.feed.subscribe({ room }, { onData: ({ users }) => this.#showOnline(users) })
  }

  /** Sends a message: shown greyed out until it comes back from the room, posted once however often it is re-sent. */
  send(text: string): void {
    const key = this.#draftKey ?? newKey()
    this.#draftKey = undefined
    const item = el('li', {}, avatar(this.me), el('div', {}, el('span', { className: 'from' }, this.me), el('time', {}, 'sending…'), el('p', { className: 'text' }, text)))
    $('pending').append(item)
    scrollToEnd(true)
    this.#pending.set(key, { text, item })
    this.#session?.outbox.push({ kind: 'message', text, key })
  }

  /** Shows or hides this user's indicator in the room; only while connected: an indicator queued across an outage would be stale when it lands. */
  typing(typing: boolean): void {
    this.#draftKey ??= newKey()
    if (this.api.$connection.state === 'open') this.#session?.outbox.push({ kind: 'typing', typing, key: this.#draftKey })
  }

  close(): void {
    this.#closed = true
    this.#presence.unsubscribe()
    for (const timer of this.#typing.values()) clearTimeout(timer)
    if (this.#pending.size === 0) return this.#endSession()
    // Messages on their way: the session stays until they are back (or give up), and sends nothing more.
    this.#session?.outbox.close()
    setTimeout(() => this.#endSession(), DRAIN_MS)
  }

  #endSession(): void {
    this.#session?.subscription.unsubscribe()
    this.#session = undefined
  }

  /** Loads the history, then opens the session from there. Again after a resync, or after the session failed. */
  async #load(): Promise<void> {
    this.#endSession()
    let history: { messages: ChatMessage[]; lastId: number }
    try {
      history = await this.api.messages.history.query({ room: this.room, limit: HISTORY })
    } catch (error) {
      if (!this.#closed) this.#messages.replaceChildren(el('li', { className: 'empty' }, describe(error)))
      return
    }
    if (this.#closed) return
    this.#messages.replaceChildren(...history.messages.map((message) => this.#render(message)))
    if (history.messages.length === 0) this.#messages.append(el('li', { className: 'empty' }, 'No messages yet. Say hello!'))
    this.#lastId = history.lastId
    scrollToEnd(true)
    this.#open(history.lastId)
  }

  /**
   * Opens the session after message `lastId`: joins the room, then sends
   * again every message not confirmed yet (a new session after a resync
   * or a failure; the server posts each key once).
   */
  #open(lastId: number): void {
    const outbox = new Outbox<SessionChunk>()
    outbox.push({ kind: 'join', room: this.room })
    for (const [key, { text }] of this.#pending) outbox.push({ kind: 'message', text, key })
    const subscription = this.api.room.session.subscribe(outbox, {
      lastEventId: `${this.room}:${lastId}`,
      // Chunks a dropped connection may have lost are sent again on the next one: messages post once per key.
      idempotent: true,
      onData: (event) => this.#event(event),
      onResync: () => {
        // More was missed than the server keeps for replay: start again from the history.
        if (!this.#closed) void this.#load()
      },
      onError: (error) => {
        if (this.#closed || this.api.$connection.state === 'closed') return
        $('typing').textContent = `room session: ${describe(error)}; reopening…`
        setTimeout(() => void (this.#closed || this.#load()), RETRY_MS)
      },
    })
    this.#session = { subscription, outbox }
  }

  /** One event of the session. */
  #event(event: SessionEvent): void {
    if (event.kind === 'failed') {
      const pending = this.#pending.get(event.key)
      this.#pending.delete(event.key)
      pending?.item.classList.add('failed')
      if (pending !== undefined) pending.item.querySelector('time')!.textContent = `not sent: ${event.code}: ${event.message}`
    } else if (event.kind === 'message') {
      if (event.key !== undefined) {
        this.#pending.get(event.key)?.item.remove()
        this.#pending.delete(event.key)
      }
      if (this.#closed) {
        if (this.#pending.size === 0) this.#endSession()
        return
      }
      this.#showTyping(event.message.from, false) // their message is what they were typing
      this.#receive(event.message)
    } else if (!this.#closed && event.user !== this.me) {
      this.#showTyping(event.user, event.typing)
    }
  }

  /**
   * A message from the session. Ids go up by one, so anything else would be a
   * duplicate or a gap from the wire; both are counted on the list (the
   * browser test checks they stay at 0), and a duplicate is not shown.
   */
  #receive(message: ChatMessage): void {
    const counter = (name: 'duplicates' | 'gaps') => {
      this.#messages.dataset[name] = String(Number(this.#messages.dataset[name] ?? 0) + 1)
    }
    if (message.id <= this.#lastId) return counter('duplicates')
    if (message.id !== this.#lastId + 1) counter('gaps')
    this.#lastId = message.id
    const atEnd = isScrolledToEnd()
    this.#messages.querySelector('.empty')?.remove()
    this.#messages.append(this.#render(message))
    scrollToEnd(atEnd || message.from === this.me)
  }

  #render(message: ChatMessage): HTMLLIElement {
    const item = el(
      'li',
      {},
      avatar(message.from),
      el(
        'div',
        {},
        el('span', { className: 'from' }, message.from),
        el('time', { dateTime: message.at.toISOString() }, message.at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
        el('p', { className: 'text' }, message.text),
      ),
    )
    item.dataset.id = String(message.id)
    item.dataset.from = message.from
    return item
  }

  #showOnline(users: string[]): void {
    $('online').replaceChildren(
      ...users.map((user) => el('li', {}, user, ...(user === this.me ? [' ', el('span', { className: 'you' }, '(you)')] : []))),
    )
  }

  /** Shows `user` as typing for the next {@link TYPING_TTL_MS} (renewed by each indicator), or not. */
  #showTyping(user: string, typing: boolean): void {
    clearTimeout(this.#typing.get(user))
    this.#typing.delete(user)
    if (typing) this.#typing.set(user, setTimeout(() => this.#showTyping(user, false), TYPING_TTL_MS))
    const others = [...this.#typing.keys()].sort((a, b) => a.localeCompare(b))
    $('typing').textContent =
      others.length === 0
        ? ''
        : others.length === 1
          ? `${others[0]} is typing…`
          : others.length === 2
            ? `${others[0]} and ${others[1]} are typing…`
            : `${others.length} people are typing…`
  }
}

/** The message box: messages and typing indicators go into the open room's session. */
function composer(currentView: () => RoomView | undefined): void {
  const form = $<HTMLFormElement>('composer')
  const input = $<HTMLInputElement>('text')
  let typingSentAt = 0

  input.addEventListener('input', () => {
    const view = currentView()
    if (view === undefined) return
    if (input.value.trim() === '') {
      if (typingSentAt !== 0) view.typing(false)
      typingSentAt = 0
    } else if (Date.now() - typingSentAt > TYPING_RENEW_MS) {
      typingSentAt = Date.now()
      view.typing(true)
    }
  })

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const view = currentView()
    const text = input.value.trim()
    if (view === undefined || text === '') return
    input.value = ''
    typingSentAt = 0 // the message ends the indicator on every page
    view.send(text)
  })
}

/** A random idempotency key (`getRandomValues` works on plain-http pages too, unlike `randomUUID`). */
function newKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function avatar(name: string): HTMLSpanElement {
  let hue = 0
  for (const char of name) hue = (hue * 31 + char.codePointAt(0)!) % 360
  const span = el('span', { className: 'avatar', ariaHidden: 'true' }, name.slice(0, 1).toUpperCase())
  span.style.setProperty('--hue', String(hue))
  return span
}

const log = () => $('log')
const isScrolledToEnd = () => log().scrollHeight - log().scrollTop - log().clientHeight < 40
function scrollToEnd(force: boolean): void {
  if (force) log().scrollTop = log().scrollHeight
}

function describe(error: unknown): string {
  return isRpcError(error) ? `${error.code}: ${error.message}` : String(error)
}
