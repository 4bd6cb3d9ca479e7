import { describe, expect, it } from 'vitest'
import { manifestToApiModel, type ApiManifest, type ManifestProcedure, type TypeModel } from '@wirecall/codegen'

/** Hand-written manifests read back as an API model: what `generate types --url` prints from. */

const STRING: TypeModel = { kind: 'primitive', name: 'string' }
const NUMBER: TypeModel = { kind: 'primitive', name: 'number' }
const UNKNOWN: TypeModel = { kind: 'primitive', name: 'unknown' }

function manifest(procedures: Record<string, ManifestProcedure>): ApiManifest {
  return { format: 'wirecall-api/1', protocol: 'wirecall.v1', procedures }
}

function query(input: ManifestProcedure['input'], output: ManifestProcedure['output'] = {}): ManifestProcedure {
  return { kind: 'query', input, output }
}

/** The input type of the only procedure, with the model's aliases. */
function readInput(schema: ManifestProcedure['input']) {
  const model = manifestToApiModel(manifest({ only: query(schema) }))
  return { type: model.procedures[0]!.input, aliases: Object.fromEntries(model.aliases) }
}

describe('manifestToApiModel', () => {
  it('keeps every procedure with its kind, idempotence and path, in the manifest order', () => {
    const model = manifestToApiModel(
      manifest({
        'greet': query({ type: 'string' }, { type: 'string' }),
        'post.add': { kind: 'mutation', idempotent: true, input: { type: 'number' }, output: { type: 'boolean' } },
        'ticks': { kind: 'subscription', input: { type: 'null' }, output: { type: 'number' } },
      }),
    )
    expect(model.procedures).toEqual([
      { path: 'greet', kind: 'query', idempotent: false, input: STRING, output: STRING },
      { path: 'post.add', kind: 'mutation', idempotent: true, input: NUMBER, output: { kind: 'primitive', name: 'boolean' } },
      { path: 'ticks', kind: 'subscription', idempotent: false, input: { kind: 'primitive', name: 'null' }, output: NUMBER },
    ])
    expect(model.aliases.size).toBe(0)
  })

  it('reads objects: required and optional properties, their descriptions, and index signatures', () => {
    const { type } = readInput({
      type: 'object',
      properties: { name: { type: 'string', description: 'Shown to others' }, age: { type: 'integer' } },
      required: ['name'],
      additionalProperties: false,
    })
    expect(type).toEqual({
      kind: 'object',
      properties: [
        { name: 'name', type: STRING, optional: false, readonly: false, doc: 'Shown to others' },
        { name: 'age', type: NUMBER, optional: true, readonly: false, doc: undefined },
      ],
      index: undefined,
    })
    expect(readInput({ type: 'object', additionalProperties: { type: 'number' } }).type).toEqual({ kind: 'object', properties: [], index: NUMBER })
    expect(readInput({ type: 'object' }).type).toEqual({ kind: 'object', properties: [], index: UNKNOWN })
  })

  it('reads arrays, and tuples from prefixItems (optional past minItems, a rest element when items is open)', () => {
    expect(readInput({ type: 'array', items: { type: 'string' } }).type).toEqual({ kind: 'array', element: STRING, readonly: false })
    expect(readInput({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false, minItems: 1 }).type).toEqual({
      kind: 'tuple',
      elements: [
        { type: STRING, optional: false, rest: false },
        { type: NUMBER, optional: true, rest: false },
      ],
      readonly: false,
    })
    expect(readInput({ type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'number' }, minItems: 1 }).type).toEqual({
      kind: 'tuple',
      elements: [
        { type: STRING, optional: false, rest: false },
        { type: { kind: 'array', element: NUMBER, readonly: false }, optional: false, rest: true },
      ],
      readonly: false,
    })
    // draft-07: items as an array, additionalItems after it.
    expect(readInput({ type: 'array', items: [{ type: 'string' }], additionalItems: false, minItems: 1 }).type).toEqual({
      kind: 'tuple',
      elements: [{ type: STRING, optional: false, rest: false }],
      readonly: false,
    })
  })

  it('reads enums and consts as literal unions, anyOf/oneOf and type lists as unions, allOf as an intersection', () => {
    expect(readInput({ enum: ['draft', 'published', 3, true, null] }).type).toEqual({
      kind: 'union',
      members: [
        { kind: 'literal', value: 'draft' },
        { kind: 'literal', value: 'published' },
        { kind: 'literal', value: 3 },
        { kind: 'literal', value: true },
        { kind: 'primitive', name: 'null' },
      ],
    })
    expect(readInput({ type: 'string', const: 'only' }).type).toEqual({ kind: 'literal', value: 'only' })
    expect(readInput({ anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'string' }] }).type).toEqual({ kind: 'union', members: [STRING, NUMBER] })
    expect(readInput({ oneOf: [{ type: 'string' }, { type: 'null' }] }).type).toEqual({ kind: 'union', members: [STRING, { kind: 'primitive', name: 'null' }] })
    expect(readInput({ type: ['string', 'null'] }).type).toEqual({ kind: 'union', members: [STRING, { kind: 'primitive', name: 'null' }] })
    const a = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }
    const b = { type: 'object', properties: { b: { type: 'number' } }, required: ['b'] }
    const both = readInput({ allOf: [a, b] }).type
    expect(both.kind).toBe('intersection')
    expect(both.kind === 'intersection' && both.members.length).toBe(2)
  })

  it('reads the x-wirecall-type markers back into the rich types they revive as', () => {
    const { type } = readInput({
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time', 'x-wirecall-type': 'Date' },
        big: { type: 'string', pattern: '^-?\\d+$', 'x-wirecall-type': 'bigint' },
        fixedBig: { const: '-12', 'x-wirecall-type': 'bigint' },
        counts: {
          type: 'array',
          items: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], minItems: 2, maxItems: 2 },
          'x-wirecall-type': 'map',
        },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, 'x-wirecall-type': 'set' },
        home: { type: 'string', format: 'uri', 'x-wirecall-type': 'URL' },
        bytes: { type: 'array', items: { type: 'integer' }, 'x-wirecall-type': 'Uint8Array' },
        gone: { type: 'null', 'x-wirecall-type': 'undefined' },
        opaque: { 'x-wirecall-unrepresentable': true },
      },
      required: ['at', 'big', 'fixedBig', 'counts', 'tags', 'home', 'bytes', 'gone', 'opaque'],
    })
    const byName = Object.fromEntries((type.kind === 'object' ? type.properties : []).map((p) => [p.name, p.type]))
    expect(byName).toEqual({
      at: { kind: 'rich', name: 'Date', args: [] },
      big: { kind: 'primitive', name: 'bigint' },
      fixedBig: { kind: 'bigint-literal', digits: '-12' },
      counts: { kind: 'rich', name: 'Map', args: [STRING, NUMBER] },
      tags: { kind: 'rich', name: 'Set', args: [STRING] },
      home: { kind: 'rich', name: 'URL', args: [] },
      bytes: { kind: 'rich', name: 'Uint8Array', args: [] },
      gone: { kind: 'primitive', name: 'undefined' },
      opaque: UNKNOWN,
    })
    expect(readInput({ 'x-wirecall-unrepresentable': 'no validator' }).type).toEqual(UNKNOWN)
  })

  it('reads the special numbers sent as strings as part of number, and both typed-array markers as the typed array', () => {
    const special = { enum: ['NaN', 'Infinity', '-Infinity', '-0'], 'x-wirecall-type': 'number' }
    expect(readInput({ anyOf: [{ type: 'number' }, special] }).type).toEqual(NUMBER)
    expect(readInput({ anyOf: [{ anyOf: [{ type: 'integer' }, { const: '-0', 'x-wirecall-type': 'number' }] }, { type: 'null', 'x-wirecall-type': 'undefined' }] }).type).toEqual({
      kind: 'union',
      members: [NUMBER, { kind: 'primitive', name: 'undefined' }],
    })
    expect(readInput({ type: 'array', items: { type: 'integer' }, 'x-wirecall-type': ['typed-array', 'Int16Array'] }).type).toEqual({ kind: 'rich', name: 'Int16Array', args: [] })
    const float = readInput({
      anyOf: [
        { type: 'array', items: { type: 'number' }, 'x-wirecall-type': ['typed-array', 'Float32Array'] },
        { type: 'array', items: { anyOf: [{ type: 'number' }, { enum: ['NaN'] }] }, 'x-wirecall-type': ['custom', 'wirecall.Float32Array'] },
      ],
    })
    expect(float.type).toEqual({ kind: 'rich', name: 'Float32Array', args: [] })
    expect(readInput({ type: 'string', pattern: '^/[\\s\\S]*/[a-z]*$', 'x-wirecall-type': 'regexp' }).type).toEqual({ kind: 'rich', name: 'RegExp', args: [] })
    // A custom type of the user's own serializer: read by its wire form.
    expect(readInput({ type: 'string', 'x-wirecall-type': ['custom', 'Decimal'] }).type).toEqual(STRING)
  })

  it('turns $defs into named aliases, recursive ones included, and draft-07 definitions too', () => {
    const { type, aliases } = readInput({
      $ref: '#/$defs/Node',
      $defs: {
        Node: {
          type: 'object',
          properties: { value: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } },
          required: ['value', 'children'],
        },
      },
    })
    expect(type).toEqual({ kind: 'ref', name: 'Node' })
    expect(aliases.Node).toEqual({
      kind: 'object',
      properties: [
        { name: 'value', type: STRING, optional: false, readonly: false, doc: undefined },
        { name: 'children', type: { kind: 'array', element: { kind: 'ref', name: 'Node' }, readonly: false }, optional: false, readonly: false, doc: undefined },
      ],
      index: undefined,
    })
    const draft07 = readInput({ definitions: { Id: { type: 'string' } }, type: 'array', items: { $ref: '#/definitions/Id' } })
    expect(draft07.type).toEqual({ kind: 'array', element: { kind: 'ref', name: 'Id' }, readonly: false })
    expect(draft07.aliases).toEqual({ Id: STRING })
  })

  it('names a schema that refers to its own root ($ref "#") after its procedure and side', () => {
    const model = manifestToApiModel(
      manifest({
        'tree.get': query(
          { type: 'null' },
          { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#' } } }, required: ['kids'] },
        ),
      }),
    )
    expect(model.procedures[0]!.output).toEqual({ kind: 'ref', name: 'TreeGetOutput' })
    expect(model.aliases.get('TreeGetOutput')).toEqual({
      kind: 'object',
      properties: [{ name: 'kids', type: { kind: 'array', element: { kind: 'ref', name: 'TreeGetOutput' }, readonly: false }, optional: false, readonly: false, doc: undefined }],
      index: undefined,
    })
  })

  it('shares one alias between schemas that define the same thing, and renames a different thing of the same name', () => {
    const post = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] }
    const otherPost = { type: 'object', properties: { id: { type: 'number' } }, required: ['id'] }
    const model = manifestToApiModel(
      manifest({
        a: query({ $ref: '#/$defs/Post', $defs: { Post: post } }, { $ref: '#/$defs/Post', $defs: { Post: { ...post } } }),
        b: query({ $ref: '#/$defs/Post', $defs: { Post: otherPost } }),
      }),
    )
    const [a, b] = model.procedures
    expect(a!.input).toEqual({ kind: 'ref', name: 'Post' })
    expect(a!.output).toEqual({ kind: 'ref', name: 'Post' })
    expect(b!.input).toEqual({ kind: 'ref', name: 'Post2' })
    expect([...model.aliases.keys()].sort()).toEqual(['Post', 'Post2'])
  })

  it('never declares an alias over a global or keyword, and reads hostile names as data', () => {
    const { type, aliases } = readInput({
      type: 'object',
      properties: {
        when: { $ref: '#/$defs/Date' },
        proto: { $ref: '#/$defs/__proto__' },
        missing: { $ref: '#/$defs/Nowhere' },
        remote: { $ref: 'https://example.com/schema.json' },
      },
      required: ['when', 'proto', 'missing', 'remote'],
      $defs: JSON.parse('{"Date":{"type":"string"},"__proto__":{"type":"number"},"Page<User>":{"type":"boolean"}}') as Record<string, unknown>,
    })
    const byName = Object.fromEntries((type.kind === 'object' ? type.properties : []).map((p) => [p.name, p.type]))
    expect(byName.when).toEqual({ kind: 'ref', name: 'Date2' })
    expect(byName.proto).toEqual({ kind: 'ref', name: 'proto' })
    expect(byName.missing).toEqual(UNKNOWN)
    expect(byName.remote).toEqual(UNKNOWN)
    expect(aliases).toEqual({ Date2: STRING, proto: NUMBER })
  })

  it('puts the resync in the events of a subscription that can resync', () => {
    const model = manifestToApiModel(
      manifest({
        feed: { kind: 'subscription', resync: true, input: { type: 'null' }, output: { type: 'string' } },
        plain: { kind: 'subscription', input: { type: 'null' }, output: { type: 'string' } },
      }),
    )
    expect(model.procedures[0]!.output).toEqual({ kind: 'union', members: [STRING, { kind: 'resync' }] })
    expect(model.procedures[1]!.output).toEqual(STRING)
  })

  it('reads boolean schemas and schemas it cannot narrow as unknown or never, never as anything stricter', () => {
    expect(readInput(true as unknown as ManifestProcedure['input']).type).toEqual(UNKNOWN)
    expect(readInput(false as unknown as ManifestProcedure['input']).type).toEqual({ kind: 'primitive', name: 'never' })
    expect(readInput({}).type).toEqual(UNKNOWN)
    expect(readInput({ not: { type: 'string' } }).type).toEqual(UNKNOWN)
    expect(readInput({ not: {} }).type).toEqual({ kind: 'primitive', name: 'never' })
    expect(readInput({ anyOf: [{ type: 'string' }, {}] }).type).toEqual(UNKNOWN)
  })

  it('reads a schema nested deeper than any payload type as unknown below a bound, instead of overflowing the stack', () => {
    let schema: Record<string, unknown> = { type: 'string' }
    for (let i = 0; i < 100_000; i++) schema = { type: 'array', items: schema }
    let type = readInput(schema).type
    let levels = 0
    while (type.kind === 'array') {
      type = type.element
      levels++
    }
    expect(type).toEqual(UNKNOWN)
    expect(levels).toBeGreaterThan(100)
  })
})
