// Request cache keys: SHA-256 of the checkpoint fingerprint, the request type and its arguments
// (the seed's lm_cache hashed type and arguments only, so two checkpoints shared answers).
import { createHash } from 'node:crypto'
import { type EvalRequest, MAX_GEN_TOKENS } from '../../../shared/eval'

/** The arguments that determine a request's answer, in a fixed order. */
export function requestArgs(r: EvalRequest): unknown[] {
  switch (r.type) {
    case 'loglikelihood':
      return [r.context, r.continuation]
    case 'loglikelihood_rolling':
      return [r.text]
    case 'greedy_until':
      return [r.context, r.stops, r.maxTokens ?? MAX_GEN_TOKENS]
  }
}

export function requestKey(fingerprint: string, r: EvalRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([fingerprint, r.type, requestArgs(r)]))
    .digest('hex')
}
