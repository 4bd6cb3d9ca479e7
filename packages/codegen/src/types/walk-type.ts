import type * as TS from 'typescript'
import { CliError } from '../cli-error'
import type { PropertyModel, TupleElementModel, TypeModel } from '../model/type-model'
import { AliasNames } from './alias-names'
import { isLibSymbol, isResyncSignal, richNameOf } from './known-types'
import type { TypeScriptApi } from './load-typescript'

/** Past this many levels a type is taken to expand without end (a generic that instantiates itself ever deeper). */
const MAX_DEPTH = 64

const UNKNOWN: TypeModel = { kind: 'primitive', name: 'unknown' }
const BOOLEAN: TypeModel = { kind: 'primitive', name: 'boolean' }

/** `checker`'s ids: stable for the program's life, and what the cache is keyed by. */
function typeId(type: TS.Type): number {
  return (type as TS.Type & { readonly id: number }).id
}

/** Where a member goes in a printed union: values first, then the signal, `null`, `void`, `undefined`. */
function unionRank(type: TypeModel): number {
  if (type.kind === 'resync') return 1
  if (type.kind !== 'primitive') return 0
  return type.name === 'null' ? 2 : type.name === 'void' ? 3 : type.name === 'undefined' ? 4 : 0
}

/** Where the walk is, for refusals: `post.add output` and the property path below it. */
interface Site {
  readonly where: string
  readonly path: readonly string[]
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function member(site: Site, step: string): Site {
  return { where: site.where, path: [...site.path, step] }
}

function propertyStep(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`
}

/**
 * Walks the checker's types into {@link TypeModel}s: one walker per
 * program, so every procedure shares the cache (per `ts.Type` id) and the
 * named aliases. User interfaces and object type aliases become named
 * aliases; a type met again while it is being walked is recursive and
 * becomes one too, so the walk always ends.
 */
export class TypeWalker {
  /** Named types, in the order their walk finished (a type's parts before it). */
  readonly aliases = new Map<string, TypeModel>()
  /** Doc comments of the named types that have one. */
  readonly aliasDocs = new Map<string, string>()
  private readonly cache = new Map<number, TypeModel>()
  /** Types being walked, by id: `true` once met again inside themselves. */
  private readonly walking = new Map<number, boolean>()
  private readonly nameOfType = new Map<number, string>()
  private readonly names = new AliasNames()
  private readonly undefinedType: TS.Type

  constructor(
    private readonly ts: TypeScriptApi,
    private readonly program: TS.Program,
    private readonly checker: TS.TypeChecker,
  ) {
    this.undefinedType = checker.getUndefinedType()
  }

  /** The model of a payload type; `where` (`post.add output`) heads the message of a refusal. */
  walkPayload(type: TS.Type, where: string): TypeModel {
    return this.walk(type, { where, path: [] })
  }

  private refuse(site: Site, what: string): never {
    const at = site.path.length === 0 ? '' : ` → ${site.path.join('')}`
    throw new CliError('UNREPRESENTABLE', `${site.where}${at}: ${what} cannot cross the wire`)
  }

  private walk(type: TS.Type, site: Site): TypeModel {
    const id = typeId(type)
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const leaf = this.leaf(type, site)
    if (leaf !== undefined) {
      this.cache.set(id, leaf)
      return leaf
    }
    // An array or tuple is not a recursion point of its own: the type that
    // recurs through it (a union, an object) is, and gets the name.
    if (this.checker.isArrayType(type) || this.checker.isTupleType(type)) {
      if (site.path.length > MAX_DEPTH) this.refuse(site, `a type nested over ${MAX_DEPTH} levels deep (an array of itself?)`)
      const model = this.structure(type, site)
      this.cache.set(id, model)
      return model
    }
    if (this.walking.has(id)) {
      this.walking.set(id, true)
      return { kind: 'ref', name: this.nameFor(type) }
    }
    if (site.path.length > MAX_DEPTH) this.refuse(site, `a type nested over ${MAX_DEPTH} levels deep (a generic that expands itself?)`)
    const named = this.isNamedObject(type)
    this.walking.set(id, false)
    // A refusal ends the whole run, so the entry is not cleaned up on a throw.
    const body = this.structure(type, site)
    const recursive = this.walking.get(id) === true
    this.walking.delete(id)
    let result = body
    if (named || recursive) {
      const name = this.nameFor(type)
      this.aliases.set(name, body)
      const doc = this.docOf(type.aliasSymbol ?? type.getSymbol())
      if (doc !== undefined) this.aliasDocs.set(name, doc)
      result = { kind: 'ref', name }
    }
    this.cache.set(id, result)
    return result
  }

  /** Types with no parts to walk, or whose parts are walked without entering the recursion check. */
  private leaf(type: TS.Type, site: Site): TypeModel | undefined {
    const { TypeFlags } = this.ts
    const flags = type.flags
    if (flags & (TypeFlags.Any | TypeFlags.Unknown)) return UNKNOWN
    if (flags & TypeFlags.Boolean) return BOOLEAN
    if (flags & TypeFlags.Union) return undefined
    if (flags & TypeFlags.String) return { kind: 'primitive', name: 'string' }
    if (flags & TypeFlags.Number) return { kind: 'primitive', name: 'number' }
    if (flags & TypeFlags.BigInt) return { kind: 'primitive', name: 'bigint' }
    if (flags & TypeFlags.Null) return { kind: 'primitive', name: 'null' }
    if (flags & TypeFlags.Undefined) return { kind: 'primitive', name: 'undefined' }
    if (flags & TypeFlags.Void) return { kind: 'primitive', name: 'void' }
    if (flags & TypeFlags.Never) return { kind: 'primitive', name: 'never' }
    if (flags & TypeFlags.StringLiteral) return { kind: 'literal', value: (type as TS.StringLiteralType).value }
    if (flags & TypeFlags.NumberLiteral) return { kind: 'literal', value: (type as TS.NumberLiteralType).value }
    if (flags & TypeFlags.BooleanLiteral) return { kind: 'literal', value: (type as TS.Type & { intrinsicName: string }).intrinsicName === 'true' }
    if (flags & TypeFlags.BigIntLiteral) {
      const { negative, base10Value } = (type as TS.BigIntLiteralType).value
      return { kind: 'bigint-literal', digits: `${negative ? '-' : ''}${base10Value}` }
    }
    if (flags & TypeFlags.ESSymbolLike) this.refuse(site, 'a symbol')
    // A template literal type, `Uppercase<string>`, an enum with computed members: a string or a
    // number on the wire; the model has no pattern.
    if (flags & TypeFlags.StringLike) return { kind: 'primitive', name: 'string' }
    if (flags & TypeFlags.NumberLike) return { kind: 'primitive', name: 'number' }
    if (flags & TypeFlags.NonPrimitive) return { kind: 'object', properties: [], index: UNKNOWN }
    if (flags & TypeFlags.Object) {
      if (isResyncSignal(this.ts, type)) return { kind: 'resync' }
      const rich = richNameOf(this.ts, type)
      if (rich === undefined) return undefined
      if (rich !== 'Map' && rich !== 'Set') return { kind: 'rich', name: rich, args: [] }
      const args = this.checker.getTypeArguments(type as TS.TypeReference)
      const steps = rich === 'Map' ? ['<key>', '<value>'] : ['<element>']
      return { kind: 'rich', name: rich, args: steps.map((step, i) => this.walk(args[i] ?? this.checker.getUnknownType(), member(site, step))) }
    }
    if (flags & TypeFlags.Intersection) return undefined
    // A type parameter, or a deferred conditional or indexed access: what it is depends on a caller the wire never sees.
    return UNKNOWN
  }

  private structure(type: TS.Type, site: Site): TypeModel {
    const { TypeFlags } = this.ts
    if (type.flags & TypeFlags.Union) return this.union((type as TS.UnionType).types, site)
    if (type.flags & TypeFlags.Intersection) {
      const parts = (type as TS.IntersectionType).types
      if (parts.every((part) => this.isPlainObject(part))) return this.object(type, site)
      return { kind: 'intersection', members: parts.map((part) => this.walk(part, site)) }
    }
    if (this.checker.isArrayType(type)) {
      const element = this.checker.getTypeArguments(type as TS.TypeReference)[0] ?? this.checker.getUnknownType()
      return { kind: 'array', element: this.walk(element, member(site, '[]')), readonly: type.getSymbol()?.name === 'ReadonlyArray' }
    }
    if (this.checker.isTupleType(type)) return this.tuple(type as TS.TypeReference, site)
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) this.refuse(site, 'a function')
    const symbol = type.getSymbol()
    if (symbol !== undefined && symbol.flags & this.ts.SymbolFlags.Class) {
      this.refuse(site, `an instance of class ${symbol.name}`)
    }
    if (symbol !== undefined && symbol.flags & this.ts.SymbolFlags.Interface && isLibSymbol(this.program, symbol)) {
      this.refuse(site, `a ${symbol.name}`)
    }
    return this.object(type, site)
  }

  /** A union's members; `true | false` read as `boolean`, as the source wrote it. */
  private union(types: readonly TS.Type[], site: Site): TypeModel {
    const { TypeFlags } = this.ts
    const literal = (value: string) => types.some((t) => t.flags & TypeFlags.BooleanLiteral && (t as TS.Type & { intrinsicName: string }).intrinsicName === value)
    const collapse = literal('true') && literal('false')
    const members: TypeModel[] = []
    let booleanAdded = false
    for (const t of types) {
      if (collapse && t.flags & TypeFlags.BooleanLiteral) {
        if (!booleanAdded) members.push(BOOLEAN)
        booleanAdded = true
        continue
      }
      const model = this.walk(t, site)
      if (model.kind === 'union') members.push(...model.members)
      else if (!members.some((m) => m.kind === 'primitive' && model.kind === 'primitive' && m.name === model.name)) members.push(model)
    }
    if (members.length === 1) return members[0]!
    // The checker orders a union by type id; a reader expects `T | null | undefined`, and the signal last.
    return { kind: 'union', members: members.sort((a, b) => unionRank(a) - unionRank(b)) }
  }

  private tuple(type: TS.TypeReference, site: Site): TypeModel {
    const target = type.target as TS.TupleType
    const args = this.checker.getTypeArguments(type)
    const { ElementFlags } = this.ts
    const elements: TupleElementModel[] = target.elementFlags.map((flags, i) => {
      const label = target.labeledElementDeclarations?.[i]
      const name = label !== undefined && this.ts.isIdentifier(label.name) ? label.name.text : undefined
      const optional = (flags & ElementFlags.Optional) !== 0
      const element = args[i] ?? this.checker.getUnknownType()
      const elementSite = member(site, `[${i}]`)
      return {
        type: optional ? this.optionalValue(element, elementSite) : this.walk(element, elementSite),
        optional,
        rest: (flags & ElementFlags.Variable) !== 0,
        ...(name === undefined ? {} : { name }),
      }
    })
    return { kind: 'tuple', elements, readonly: target.readonly }
  }

  private object(type: TS.Type, site: Site): TypeModel {
    const properties: PropertyModel[] = []
    for (const property of this.checker.getPropertiesOfType(type)) {
      // The escaped name, where a symbol key reads `__@name@id` (a property named so would read `___@…`).
      const key = String(property.escapedName)
      if (key.startsWith('__@') || key.startsWith('__#')) this.refuse(member(site, `[${key.startsWith('__#') ? property.name : 'symbol'}]`), 'a symbol-keyed property')
      const optional = (property.flags & this.ts.SymbolFlags.Optional) !== 0
      const propertySite = member(site, propertyStep(property.name))
      const declared = this.checker.getTypeOfSymbol(property)
      const doc = this.docOf(property)
      properties.push({
        name: property.name,
        type: optional ? this.optionalValue(declared, propertySite) : this.walk(declared, propertySite),
        optional,
        readonly: this.isReadonly(property),
        ...(doc === undefined ? {} : { doc }),
      })
    }
    const index = this.checker.getIndexInfosOfType(type).find((info) => info.keyType.flags & (this.ts.TypeFlags.String | this.ts.TypeFlags.Number))
    if (index === undefined) return { kind: 'object', properties }
    return { kind: 'object', properties, index: this.walk(index.type, member(site, '[key]')) }
  }

  /**
   * An optional property's type without the `undefined` that only stands
   * for "missing" (`exactOptionalPropertyTypes` tells the two apart; the
   * real `undefined` stays, so the file says `?: T | undefined` where the
   * source allowed it).
   */
  private optionalValue(type: TS.Type, site: Site): TypeModel {
    if (!(type.flags & this.ts.TypeFlags.Union)) return this.walk(type, site)
    const types = (type as TS.UnionType).types
    const kept = types.filter((t) => !(t.flags & this.ts.TypeFlags.Undefined) || t === this.undefinedType)
    if (kept.length === types.length) return this.walk(type, site)
    return kept.length === 1 ? this.walk(kept[0]!, site) : this.union(kept, site)
  }

  private isReadonly(property: TS.Symbol): boolean {
    const { ts } = this
    // A mapped type's property (`Readonly<T>`, a validator's inferred type) carries it in its check flags.
    const links = (property as TS.Symbol & { links?: { checkFlags?: number } }).links
    if (property.flags & ts.SymbolFlags.Transient && ((links?.checkFlags ?? 0) & 8) !== 0) return true
    return (property.declarations ?? []).some((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly) !== 0)
  }

  private docOf(symbol: TS.Symbol | undefined): string | undefined {
    if (symbol === undefined) return undefined
    const text = this.ts.displayPartsToString(symbol.getDocumentationComment(this.checker)).trim()
    return text === '' ? undefined : text
  }

  /** An object type with properties only: what an intersection of them flattens to. */
  private isPlainObject(type: TS.Type): boolean {
    if (!(type.flags & this.ts.TypeFlags.Object)) return false
    if (this.checker.isArrayType(type) || this.checker.isTupleType(type)) return false
    if (richNameOf(this.ts, type) !== undefined || isResyncSignal(this.ts, type)) return false
    return true
  }

  /** A user interface (not generic) or a type alias of an object type: written as a named alias. */
  private isNamedObject(type: TS.Type): boolean {
    if (!(type.flags & this.ts.TypeFlags.Object) || this.checker.isArrayType(type) || this.checker.isTupleType(type)) return false
    const alias = type.aliasSymbol
    if (alias !== undefined) return (type.aliasTypeArguments ?? []).length === 0 && !isLibSymbol(this.program, alias)
    const symbol = type.getSymbol()
    if (symbol === undefined || !(symbol.flags & this.ts.SymbolFlags.Interface) || isLibSymbol(this.program, symbol)) return false
    const reference = type as TS.TypeReference
    return reference.target === undefined || this.checker.getTypeArguments(reference).length === 0
  }

  private nameFor(type: TS.Type): string {
    const id = typeId(type)
    const known = this.nameOfType.get(id)
    if (known !== undefined) return known
    const name = this.names.claim(this.baseName(type))
    this.nameOfType.set(id, name)
    return name
  }

  /** `Tree`, `Page_User` (a generic instantiation), or `Recursive` for an anonymous type. */
  private baseName(type: TS.Type): string {
    const symbol = type.aliasSymbol ?? type.getSymbol()
    const base = symbol === undefined || symbol.name.startsWith('__') ? 'Recursive' : symbol.name
    const args = type.aliasSymbol !== undefined ? (type.aliasTypeArguments ?? []) : this.typeArgumentsOf(type)
    return [base, ...args.map((arg) => this.checker.typeToString(arg))].join('_')
  }

  private typeArgumentsOf(type: TS.Type): readonly TS.Type[] {
    if (!(type.flags & this.ts.TypeFlags.Object) || !((type as TS.ObjectType).objectFlags & this.ts.ObjectFlags.Reference)) return []
    return this.checker.getTypeArguments(type as TS.TypeReference)
  }
}
