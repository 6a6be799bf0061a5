// Dotted-path access to a config draft, flattening for the diff, and each field's allowed range
// read from the shared schema (so the form says what the validator will say).
import { z } from 'zod'
import { TrainConfig } from '../../../../shared/config/train'

export type Draft = Record<string, unknown>

export function getPath(obj: Draft, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Draft)[k] : undefined), obj)
}

/** Sets a value at a dotted path, creating objects on the way; undefined removes the key. */
export function setPath(obj: Draft, path: string, value: unknown): void {
  const keys = path.split('.')
  let o = obj
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object' || Array.isArray(o[k])) o[k] = {}
    o = o[k] as Draft
  }
  if (value === undefined) delete o[keys.at(-1)!]
  else o[keys.at(-1)!] = value
}

/** Leaves of nested objects as dotted paths (arrays are leaves). */
export function flatten(obj: unknown, prefix = ''): Record<string, unknown> {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return prefix ? { [prefix]: obj } : {}
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k))
  return out
}

interface JsonSchemaNode {
  type?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  default?: unknown
  enum?: string[]
  properties?: Record<string, JsonSchemaNode>
}

const SCHEMA = z.toJSONSchema(TrainConfig, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode

function node(path: string): JsonSchemaNode | undefined {
  return path.split('.').reduce<JsonSchemaNode | undefined>((n, k) => n?.properties?.[k], SCHEMA)
}

/** "1 – 256, whole number", "> 0 – 1": the schema's bounds for a numeric field. */
export function rangeText(path: string): string {
  const n = node(path)
  if (!n) return ''
  // Whole numbers carry JavaScript's safe-integer bounds; those are not limits worth showing.
  const bound = (v: number | undefined): number | undefined => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined)
  const min = bound(n.minimum)
  const max = bound(n.maximum)
  const lo = n.exclusiveMinimum !== undefined ? `> ${n.exclusiveMinimum}` : min !== undefined ? `${min}` : ''
  const hi = n.exclusiveMaximum !== undefined ? `< ${n.exclusiveMaximum}` : max !== undefined ? `${max}` : ''
  const range = lo && hi ? `${lo} – ${hi}` : lo ? (lo.startsWith('>') ? lo : `≥ ${lo}`) : hi ? `≤ ${hi}` : ''
  return [range, n.type === 'integer' ? 'whole number' : ''].filter(Boolean).join(', ')
}

export function enumOptions(path: string): string[] {
  return node(path)?.enum ?? []
}

export function defaultOf(path: string): unknown {
  return node(path)?.default
}

/** One readable message per zod issue, in the form's words rather than zod's. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number'
      if (/received undefined/.test(issue.message)) return 'is required'
      return issue.expected === 'number' ? 'must be a number' : `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${issue.minimum}` : `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`
    case 'too_big':
      return issue.origin === 'array' ? `takes at most ${issue.maximum}` : `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`
    case 'unrecognized_keys':
      return `has unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
    default:
      return issue.message
  }
}
