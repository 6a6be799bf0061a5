// Turns a reply envelope back into a value or a thrown ApiCallError with the service's message.
import type { Envelope } from '../../../shared/api'

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

export function unwrap<T>(reply: Envelope<T>): T {
  if (reply.ok) return reply.value
  throw new ApiCallError(reply.error.code, reply.error.message)
}
