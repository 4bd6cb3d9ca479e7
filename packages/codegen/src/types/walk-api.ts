import type * as TS from 'typescript'
import type { ProcedureType } from '@wirecall/core'
import { CliError } from '../cli-error'
import type { ProcedureModel } from '../model/api-model'
import type { TypeScriptApi } from './load-typescript'
import type { TypeWalker } from './walk-type'

const PROCEDURE_KINDS: ReadonlySet<string> = new Set<ProcedureType>(['query', 'mutation', 'subscription'])

/**
 * Reads a router's procedures from its type the way the client's types do
 * (`DecorateEntry`): an entry whose `~kind` is a procedure kind is a
 * procedure, read through `~types`; `~kind` `'router'` is a nested router,
 * walked through `_def.record`; anything else is a plain namespace object.
 */
export class ApiWalker {
  constructor(
    private readonly ts: TypeScriptApi,
    private readonly checker: TS.TypeChecker,
    private readonly types: TypeWalker,
  ) {}

  /** Every procedure of the router, depth first in declaration order. */
  procedures(routerType: TS.Type): ProcedureModel[] {
    const out: ProcedureModel[] = []
    this.record(this.recordOf(routerType, '(root)'), '', out)
    return out
  }

  private property(type: TS.Type, name: string): TS.Type | undefined {
    const symbol = type.getProperty(name)
    return symbol === undefined ? undefined : this.checker.getTypeOfSymbol(symbol)
  }

  private recordOf(routerType: TS.Type, path: string): TS.Type {
    const def = this.property(routerType, '_def')
    const record = def === undefined ? undefined : this.property(def, 'record')
    if (record === undefined) throw new CliError('LOAD', `${path}: a router without _def.record (is @wirecall/core's version the codegen's?)`)
    return record
  }

  private record(record: TS.Type, prefix: string, out: ProcedureModel[]): void {
    for (const entry of this.checker.getPropertiesOfType(record)) {
      const path = prefix === '' ? entry.name : `${prefix}.${entry.name}`
      const type = this.checker.getTypeOfSymbol(entry)
      const kindType = this.property(type, '~kind')
      if (kindType === undefined) {
        this.record(type, path, out)
        continue
      }
      const kind = (this.checker.getNonNullableType(kindType) as Partial<TS.StringLiteralType>).value
      if (kind === 'router') this.record(this.recordOf(type, path), path, out)
      else if (kind !== undefined && PROCEDURE_KINDS.has(kind)) out.push(this.procedure(type, path, kind as ProcedureType))
      else throw new CliError('LOAD', `${path}: not a query, mutation, subscription or router (its kind reads ${this.checker.typeToString(kindType)})`)
    }
  }

  private procedure(type: TS.Type, path: string, kind: ProcedureType): ProcedureModel {
    const slot = this.property(type, '~types')
    if (slot === undefined) throw new CliError('LOAD', `${path}: a procedure without ~types`)
    const types = this.checker.getNonNullableType(slot)
    const input = this.property(types, 'input') ?? this.checker.getUnknownType()
    const output = this.property(types, 'output') ?? this.checker.getUnknownType()
    const idempotent = this.property(types, 'idempotent')
    return {
      path,
      kind,
      idempotent: idempotent !== undefined && this.isTrue(this.checker.getNonNullableType(idempotent)),
      input: this.types.walkPayload(input, `${path} input`),
      output: this.types.walkPayload(output, `${path} output`),
    }
  }

  private isTrue(type: TS.Type): boolean {
    return (type.flags & this.ts.TypeFlags.BooleanLiteral) !== 0 && (type as TS.Type & { intrinsicName: string }).intrinsicName === 'true'
  }
}
