import type { ApiModel, ProcedureModel } from '../model/api-model'
import type { TypeModel } from '../model/type-model'
import { docComment, printType, propertyName, type PrintContext } from './print-type'

/** Options of {@link printApiDeclarations}. */
export interface PrintDeclarationsOptions {
  /** The exported type's name. @default 'AppApi' */
  readonly name?: string | undefined
  /**
   * Import nothing, not even types from `@wirecall/client`: a subscription
   * that can resync says `$resync: true` (the client adds `ResyncSignal` to
   * its events) instead of `| ResyncSignal` in `$output`.
   */
  readonly selfContained?: boolean | undefined
  /** The command line to name in the header. @default 'wirecall generate types' */
  readonly command?: string | undefined
}

/** The shape the signal has when nothing is imported (only ever nested, never a subscription's own event). */
const RESYNC_SHAPE = "{ kind: 'resync' }"

/** A namespace of the API tree: procedures and nested namespaces, by key, in order. */
interface Namespace {
  readonly entries: Map<string, ProcedureModel | Namespace>
}

function buildTree(procedures: readonly ProcedureModel[]): Namespace {
  const root: Namespace = { entries: new Map() }
  for (const procedure of procedures) {
    const keys = procedure.path.split('.')
    let node = root
    for (const key of keys.slice(0, -1)) {
      let next = node.entries.get(key)
      if (next === undefined || 'path' in next) {
        next = { entries: new Map() }
        node.entries.set(key, next)
      }
      node = next
    }
    node.entries.set(keys[keys.length - 1]!, procedure)
  }
  return root
}

function hasResync(type: TypeModel): boolean {
  return type.kind === 'resync' || (type.kind === 'union' && type.members.some((m) => m.kind === 'resync'))
}

function withoutResync(type: TypeModel): TypeModel {
  if (type.kind === 'resync') return { kind: 'primitive', name: 'never' }
  if (type.kind !== 'union') return type
  const members = type.members.filter((m) => m.kind !== 'resync')
  return members.length === 1 ? members[0]! : { kind: 'union', members }
}

function printProcedure(procedure: ProcedureModel, indent: string, selfContained: boolean): string {
  const inner = `${indent}  `
  const context: PrintContext = { indent: inner, resync: selfContained ? RESYNC_SHAPE : 'ResyncSignal' }
  const resync = procedure.kind === 'subscription' && hasResync(procedure.output)
  const output = resync && selfContained ? withoutResync(procedure.output) : procedure.output
  let text = `{\n${inner}$kind: '${procedure.kind}'\n`
  text += `${inner}$input: ${printType(procedure.input, context)}\n`
  text += `${inner}$output: ${printType(output, context)}\n`
  if (procedure.kind === 'mutation' && procedure.idempotent) text += `${inner}$idempotent: true\n`
  if (resync && selfContained) text += `${inner}$resync: true\n`
  return `${text}${indent}}`
}

function printNamespace(namespace: Namespace, indent: string, selfContained: boolean): string {
  if (namespace.entries.size === 0) return '{}'
  const inner = `${indent}  `
  let text = '{\n'
  for (const [key, entry] of namespace.entries) {
    const value = 'path' in entry ? printProcedure(entry, inner, selfContained) : printNamespace(entry, inner, selfContained)
    text += `${inner}${propertyName(key)}: ${value}\n`
  }
  return `${text}${indent}}`
}

function usesResyncSignal(model: ApiModel): boolean {
  const seen = new Set<TypeModel>()
  const visit = (type: TypeModel): boolean => {
    if (seen.has(type)) return false
    seen.add(type)
    switch (type.kind) {
      case 'resync':
        return true
      case 'union':
      case 'intersection':
        return type.members.some(visit)
      case 'array':
        return visit(type.element)
      case 'tuple':
        return type.elements.some((e) => visit(e.type))
      case 'rich':
        return type.args.some(visit)
      case 'object':
        return type.properties.some((p) => visit(p.type)) || (type.index !== undefined && visit(type.index))
      case 'primitive':
      case 'literal':
      case 'bigint-literal':
      case 'ref':
        // A ref's alias is visited on its own, from the aliases map.
        return false
    }
  }
  return model.procedures.some((p) => visit(p.input) || visit(p.output)) || [...model.aliases.values()].some(visit)
}

/**
 * Every alias is an `export type`, interfaces too: an object type alias is
 * assignable wherever the source's interface or alias was (an interface
 * would refuse `Record<string, unknown>` targets that a type alias meets).
 */
function printAlias(name: string, type: TypeModel, doc: string | undefined, context: PrintContext): string {
  return `${docComment(doc, '')}export type ${name} = ${printType(type, context)}\n`
}

/**
 * The text of `api.d.ts` for an API: a header, the named types, then
 * `export type AppApi = { … }` with one `{ $kind; $input; $output;
 * $idempotent?; $resync? }` leaf per procedure, the shape
 * `createRpcClient<AppApi>` takes. Deterministic: the same model prints the
 * same bytes. It imports at most `type { ResyncSignal }` from
 * `@wirecall/client`, and nothing with `selfContained`.
 */
export function printApiDeclarations(model: ApiModel, options: PrintDeclarationsOptions = {}): string {
  const name = options.name ?? 'AppApi'
  const selfContained = options.selfContained === true
  const command = options.command ?? 'wirecall generate types'
  let text = `// Generated by \`${command}\`: do not edit; run the command again instead.\n`
  text += '// The wire-only API of the router: use it as `createRpcClient<' + name + ">({ url })` from '@wirecall/client'.\n\n"
  const importsResync = !selfContained && usesResyncSignal(model)
  if (importsResync) text += "import type { ResyncSignal } from '@wirecall/client'\n\n"
  const context: PrintContext = { indent: '', resync: importsResync ? 'ResyncSignal' : RESYNC_SHAPE }
  for (const [alias, type] of model.aliases) text += `${printAlias(alias, type, model.aliasDocs?.get(alias), context)}\n`
  text += `export type ${name} = ${printNamespace(buildTree(model.procedures), '', selfContained)}\n`
  return text
}
