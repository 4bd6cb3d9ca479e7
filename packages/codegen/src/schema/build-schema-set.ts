import type { AnyProcedure, AnyRouter } from '@wirecall/core'
import type { ApiModel, ProcedureModel } from '../model/api-model'
import type { ProcedureSchemas, SchemaSet, SchemaWarning } from './schema-types'
import { sideSchema } from './side-schema'
import { hasResync } from './type-model-schema'

/** Options of {@link buildSchemaSet}. */
export interface BuildSchemaSetOptions {
  /** The router's types from the checker, for procedures without a validator. Without it those sides are unrepresentable. */
  readonly model?: ApiModel | undefined
  /** A file or folder to resolve validator libraries' converters from (the router's file). */
  readonly resolveFrom?: string | undefined
}

async function procedureSchemas(
  path: string,
  procedure: AnyProcedure,
  model: ProcedureModel | undefined,
  options: BuildSchemaSetOptions,
  warnings: SchemaWarning[],
): Promise<ProcedureSchemas> {
  const def = procedure._def
  const aliases = options.model?.aliases ?? new Map()
  const inputs = def.steps.flatMap((step) => (step.kind === 'input' ? [step.schema] : []))
  const [input, output] = await Promise.all([
    sideSchema({ io: 'input', validators: inputs, type: model?.input, aliases, undeclaredInput: inputs.length === 0, resolveFrom: options.resolveFrom }),
    sideSchema({
      io: 'output',
      validators: def.output === undefined ? [] : [def.output],
      type: model?.output,
      aliases,
      undeclaredInput: false,
      resolveFrom: options.resolveFrom,
    }),
  ])
  for (const message of input.notes) warnings.push({ path, side: 'input', message })
  for (const message of output.notes) warnings.push({ path, side: 'output', message })
  const resync = def.type === 'subscription' && model !== undefined && hasResync(model.output)
  return {
    path,
    kind: def.type,
    idempotent: def.type === 'mutation' && def.idempotent !== undefined,
    input: input.entry,
    output: output.entry,
    ...(resync && { resync: true }),
  }
}

/**
 * Every procedure's input and output (for a subscription, each event)
 * schemas, describing the wire form: what the default serializer puts in
 * `json`. Per side, the first source that applies: the validator library's
 * own converter (zod 4, valibot, arktype: the user's copy), Standard JSON
 * Schema, the TypeScript type from `options.model`, and last `{}` marked
 * `x-wirecall-unrepresentable` with a warning. Procedures in the router's
 * order.
 */
export async function buildSchemaSet(router: AnyRouter, options: BuildSchemaSetOptions = {}): Promise<SchemaSet> {
  const models = new Map((options.model?.procedures ?? []).map((p) => [p.path, p]))
  const warnings: SchemaWarning[] = []
  const procedures: ProcedureSchemas[] = []
  for (const [path, procedure] of router._def.procedures) {
    procedures.push(await procedureSchemas(path, procedure, models.get(path), options, warnings))
  }
  return { procedures, warnings }
}
