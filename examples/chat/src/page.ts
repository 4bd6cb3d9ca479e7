import { createRpcClient, isRpcError, type RpcClient, type Subscription } from '@wirecall/client'
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
/** A typing indicator is renewed this often while the user types (the server drops it after 3 s). */
const TYPING_RENEW_MS = 1_000

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
  composer(api, me, () => view)
}

/**
 * One open room: its history, then its feed resumed from the history's last
 * id (so no message falls between the two and none comes twice), who is in
 * it, and who is typing. Closing it ends the three subscriptions, which
 * also takes the user out of the room's presence.
 */
class RoomView {
  readonly #subscriptions: Subscription[] = []
  readonly #messages = $('messages')
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
    this.#subscriptions.push(
      api.presence.feed.subscribe({ room }, { onData: ({ users }) => this.#showOnline(users) }),
      api.typing.feed.subscribe({ room }, { onData: ({ users }) => this.#showTyping(users) }),
    )
  }

  close(): void {
    this.#closed = true
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe()
  }

  /** Loads the history, then follows the feed from there. Again after a resync. */
  async #load(): Promise<void> {
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
    const feed = this.api.messages.feed.subscribe(
      { room: this.room },
      {
        lastEventId: String(history.lastId),
        onData: (message) => this.#receive(message),
        onResync: () => {
          // More was missed than the server keeps for replay: start again from the history.
          feed.unsubscribe()
          this.#subscriptions.splice(this.#subscriptions.indexOf(feed), 1)
          void this.#load()
        },
      },
    )
    this.#subscriptions.push(feed)
  }

  /**
   * A message from the feed. Ids go up by one, so anything else would be a
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

  #showTyping(users: string[]): void {
    const others = users.filter((user) => user !== this.me)
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

/** The message box: sends (idempotent, so a retry after a reconnect posts once) and typing indicators. */
function composer(api: Api, me: string, currentView: () => RoomView | undefined): void {
  const form = $<HTMLFormElement>('composer')
  const input = $<HTMLInputElement>('text')
  const pending = $('pending')
  let typingSentAt = 0

  const setTyping = (room: RoomName, typing: boolean) => {
    typingSentAt = typing ? Date.now() : 0
    // Only while connected: an indicator queued across an outage would be stale when it lands.
    if (api.$connection.state === 'open') api.typing.set.mutate({ room, typing }).catch(() => {})
  }

  input.addEventListener('input', () => {
    const view = currentView()
    if (view === undefined) return
    if (input.value.trim() === '') {
      if (typingSentAt !== 0) setTyping(view.room, false)
    } else if (Date.now() - typingSentAt > TYPING_RENEW_MS) setTyping(view.room, true)
  })

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const view = currentView()
    const text = input.value.trim()
    if (view === undefined || text === '') return
    input.value = ''
    typingSentAt = 0 // the server clears the indicator when the message arrives
    // Shown greyed out until the server has it; the message itself comes back through the feed, in order.
    const item = el('li', {}, avatar(me), el('div', {}, el('span', { className: 'from' }, me), el('time', {}, 'sending…'), el('p', { className: 'text' }, text)))
    pending.append(item)
    scrollToEnd(true)
    api.messages.send.mutate({ room: view.room, text }, { idempotent: true, timeoutMs: 120_000 }).then(
      () => item.remove(),
      (error: unknown) => {
        item.classList.add('failed')
        item.querySelector('time')!.textContent = `not sent: ${describe(error)}`
      },
    )
  })
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
