import { QueryClient, QueryClientProvider, useMutation, useMutationState, useQuery } from '@tanstack/react-query'
import { createRpcClient } from '@wirecall/client'
import { createQueryUtils, queryKeyHashFn } from '@wirecall/tanstack-query'
import { useConnectionState, useSubscription } from '@wirecall/tanstack-query/react'
import { StrictMode, useState, type FormEvent } from 'react'
import { createRoot } from 'react-dom/client'
import type { AppRouter } from './router'

/**
 * The page: React and TanStack Query, through @wirecall/tanstack-query.
 * The messages are a streamed query, who is online a live query, who is
 * typing a useSubscription, the header badge useConnectionState. Stop the
 * server and start it again: nothing here refetches or flickers; the
 * client reconnects and resumes inside the queries.
 */

const name = new URLSearchParams(location.search).get('name') ?? `guest-${Math.floor(1_000 + Math.random() * 9_000)}`

const api = createRpcClient<AppRouter>({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
  connectionParams: { name },
  reconnect: { minDelayMs: 200, maxDelayMs: 2_000 },
})
const wc = createQueryUtils(api, { prefix: 'chat' })
const queryClient = new QueryClient({ defaultOptions: { queries: { queryKeyHashFn } } })

function Badge() {
  const state = useConnectionState(api)
  return (
    <span id="state" data-state={state}>
      {state}
    </span>
  )
}

function Online() {
  const online = useQuery(wc.online.liveOptions())
  return <span id="online">{online.data === undefined ? '' : `${online.data} online`}</span>
}

function Messages() {
  const messages = useQuery(wc.messages.feed.streamedOptions(undefined, { maxItems: 200 }))
  // Sends still on their way (queued while the server is down): shown greyed out until the feed brings them.
  const sending = useMutationState({
    filters: { mutationKey: wc.messages.send.mutationKey(), status: 'pending' },
    select: (mutation) => (mutation.state.variables as { text: string } | undefined)?.text ?? '',
  })
  if (messages.isError) return <p className="error">{`${messages.error.code}: ${messages.error.message}`}</p>
  return (
    <ol id="messages" data-status={messages.status}>
      {messages.data?.map((message) => (
        <li key={message.id} data-id={message.id} data-from={message.from}>
          <b>{message.from}</b>
          <span className="text">{message.text}</span>
          <time>{message.at.toLocaleTimeString()}</time>
        </li>
      ))}
      {sending.map((text, i) => (
        <li key={`sending-${i}`} className="sending">
          <b>{name}</b>
          <span className="text">{text}</span>
          <time>sending…</time>
        </li>
      ))}
    </ol>
  )
}

function Typing() {
  const typing = useSubscription(wc.typing.feed.subscriptionOptions())
  const others = typing.data?.filter((who) => who !== name) ?? []
  return (
    <p id="typing" data-status={typing.status}>
      {others.length === 0 ? '' : `${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} typing…`}
    </p>
  )
}

function Composer() {
  const [text, setText] = useState('')
  const send = useMutation(wc.messages.send.mutationOptions({ idempotent: true, timeoutMs: 120_000 }))
  const setTyping = useMutation(wc.typing.set.mutationOptions())
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (text.trim() === '') return
    send.mutate({ text })
    setTyping.mutate({ typing: false })
    setText('')
  }
  return (
    <form onSubmit={submit}>
      <input
        id="text"
        value={text}
        placeholder="Say something"
        autoComplete="off"
        onChange={(event) => {
          setText(event.target.value)
          if (event.target.value !== '') setTyping.mutate({ typing: true })
        }}
      />
      <button type="submit">Send</button>
    </form>
  )
}

function App() {
  return (
    <>
      <header>
        <h1>wirecall live-react</h1>
        <span id="me">{name}</span>
        <span className="spacer" />
        <Online />
        <Badge />
      </header>
      <main>
        <Messages />
        <Typing />
        <Composer />
      </main>
    </>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
)
