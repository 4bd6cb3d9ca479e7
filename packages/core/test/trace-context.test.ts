import { describe, expect, it } from 'vitest'
import { MAX_BAGGAGE_LENGTH, MAX_TRACESTATE_LENGTH, readTraceContext, traceContextOfHeaders } from '../src/trace-context'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`

describe('readTraceContext', () => {
  it('keeps a valid traceparent, with its tracestate and baggage', () => {
    expect(readTraceContext({ traceparent: VALID })).toEqual({ traceparent: VALID })
    expect(readTraceContext({ traceparent: VALID, tracestate: 'congo=t61rcWkgMzE', baggage: 'userId=alice' })).toEqual({
      traceparent: VALID,
      tracestate: 'congo=t61rcWkgMzE',
      baggage: 'userId=alice',
    })
  })

  it('drops what is not an object with a traceparent string, without throwing', () => {
    for (const value of [undefined, null, 42, 'x', [], {}, { traceparent: 42 }, { tracestate: 'a=b' }]) {
      expect(readTraceContext(value)).toBeUndefined()
    }
  })

  it('refuses version ff, an all-zero trace id or parent id, and upper-case hex', () => {
    expect(readTraceContext({ traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01` })).toBeUndefined()
    expect(readTraceContext({ traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` })).toBeUndefined()
    expect(readTraceContext({ traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` })).toBeUndefined()
    expect(readTraceContext({ traceparent: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01` })).toBeUndefined()
  })

  it('refuses wrong lengths, separators and extra fields on version 00', () => {
    for (const traceparent of [
      `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`,
      `00-${TRACE_ID}-${PARENT_ID}-1`,
      `00_${TRACE_ID}_${PARENT_ID}_01`,
      `00-${TRACE_ID}-${PARENT_ID}-01-extra`,
      ` ${VALID}`,
      '',
    ]) {
      expect(readTraceContext({ traceparent }), traceparent).toBeUndefined()
    }
  })

  it('reads a future version with a field appended, as W3C asks of a parser that does not know it', () => {
    const future = `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-holds`
    expect(readTraceContext({ traceparent: future })).toEqual({ traceparent: future })
  })

  it(`drops a tracestate over ${MAX_TRACESTATE_LENGTH} characters, keeping the traceparent`, () => {
    const atCap = `a=${'x'.repeat(MAX_TRACESTATE_LENGTH - 2)}`
    expect(readTraceContext({ traceparent: VALID, tracestate: atCap })).toEqual({ traceparent: VALID, tracestate: atCap })
    expect(readTraceContext({ traceparent: VALID, tracestate: `${atCap}y` })).toEqual({ traceparent: VALID })
    expect(readTraceContext({ traceparent: VALID, tracestate: 7 })).toEqual({ traceparent: VALID })
    expect(readTraceContext({ traceparent: VALID, tracestate: '' })).toEqual({ traceparent: VALID })
  })

  it(`keeps baggage up to ${MAX_BAGGAGE_LENGTH} characters and drops a longer one on its own`, () => {
    const atCap = `k=${'v'.repeat(MAX_BAGGAGE_LENGTH - 2)}`
    expect(readTraceContext({ traceparent: VALID, baggage: atCap })?.baggage).toBe(atCap)
    expect(readTraceContext({ traceparent: VALID, baggage: `${atCap}v`, tracestate: 'a=b' })).toEqual({ traceparent: VALID, tracestate: 'a=b' })
    expect(readTraceContext({ traceparent: VALID, baggage: { userId: 'alice' } })).toEqual({ traceparent: VALID })
  })
})

describe('traceContextOfHeaders', () => {
  it('reads the upgrade request headers, and nothing without a valid traceparent', () => {
    expect(traceContextOfHeaders({ traceparent: VALID, tracestate: 'a=b', baggage: 'k=v' })).toEqual({ traceparent: VALID, tracestate: 'a=b', baggage: 'k=v' })
    expect(traceContextOfHeaders({ tracestate: 'a=b' })).toBeUndefined()
    expect(traceContextOfHeaders({ traceparent: 'nope' })).toBeUndefined()
  })

  it('joins a repeated tracestate header with commas, as HTTP does', () => {
    expect(traceContextOfHeaders({ traceparent: VALID, tracestate: ['a=1', 'b=2'] })?.tracestate).toBe('a=1,b=2')
  })
})
