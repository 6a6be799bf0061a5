// The OpenAI request bodies the serving API takes, checked field by field (a 400 names the field),
// the limits that keep one request from taking the server, and the plain-text chat template.
//
// Honoured: model, prompt (string | string[] | token ids | arrays of token ids), max_tokens
// (max_completion_tokens for chat), temperature, top_p, n, stop (up to 4), seed,
// presence_penalty, frequency_penalty, logprobs (completions: 0-5 alternatives; chat: logprobs +
// top_logprobs 0-5), echo, stream (+ stream_options.include_usage), user (ignored), and two
// extensions Hugging Face and vLLM servers take: top_k and repetition_penalty.
// Refused with a 400 naming the field: best_of other than n, a non-empty logit_bias, suffix,
// tools / functions / response_format other than text; anything else unknown is ignored, as
// OpenAI's own clients send fields a server may not know.
//
// Chat template (for base GPT-2 models, which know no roles): after end-of-text as the document
// start, each message as "System: ...", "User: ..." or "Assistant: ..." on its own line, then
// "Assistant:" for the model to continue. Generation also stops at "\nUser:" and "\nSystem:" (the
// model starting the next turn), and one leading space of the reply is dropped.
import { z } from 'zod'

/** Most stop strings a request may give (OpenAI's limit). */
export const MAX_STOPS = 4
/** Longest stop string, in characters. */
export const MAX_STOP_LENGTH = 200
/** Most completions one request may ask for (prompts x n). */
export const MAX_CHOICES = 64
/** Most tokens one request may ask to generate in all (prompts x n x max_tokens). */
export const MAX_REQUEST_TOKENS = 65_536
/** Most alternatives per token in logprobs (OpenAI's limit). */
export const MAX_LOGPROBS = 5

const opt = <T extends z.ZodType>(t: T) => t.nullish()
const penalty = opt(z.number().min(-2).max(2))

const Stop = opt(
  z.union([z.string().min(1).max(MAX_STOP_LENGTH), z.array(z.string().min(1).max(MAX_STOP_LENGTH)).max(MAX_STOPS)], {
    error: `stop is a string or an array of at most ${MAX_STOPS} strings, each 1 to ${MAX_STOP_LENGTH} characters`
  })
)

const Common = {
  model: z.string({ error: 'model is required (GET /v1/models lists them)' }).min(1),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().gt(0).max(1)),
  top_k: opt(z.number().int().min(0)),
  repetition_penalty: opt(z.number().gt(0).max(10)),
  n: opt(z.number().int().min(1).max(MAX_CHOICES)),
  stop: Stop,
  seed: opt(z.number().int()),
  presence_penalty: penalty,
  frequency_penalty: penalty,
  stream: opt(z.boolean()),
  stream_options: opt(z.object({ include_usage: opt(z.boolean()) })),
  logit_bias: opt(z.record(z.string(), z.number()).refine((r) => Object.keys(r).length === 0, 'logit_bias is not supported')),
  user: opt(z.string())
}

const TokenIds = z.array(z.number().int('token ids are integers')).min(1, 'a prompt of token ids needs at least one')

export const CompletionBody = z.object({
  ...Common,
  prompt: opt(
    z.union([z.string(), z.array(z.string()).min(1), TokenIds, z.array(TokenIds).min(1)], {
      error: 'prompt is a string, an array of strings, an array of token ids or an array of arrays of token ids'
    })
  ),
  max_tokens: opt(z.number().int().min(0)),
  logprobs: opt(z.number().int().min(0).max(MAX_LOGPROBS)),
  echo: opt(z.boolean()),
  best_of: opt(z.number().int().min(1)),
  suffix: opt(z.string().max(0, 'suffix is not supported'))
})
export type CompletionBody = z.infer<typeof CompletionBody>

const Content = z.union([z.string(), z.array(z.object({ type: z.literal('text', 'only text content parts are supported'), text: z.string() }))])

export const ChatBody = z.object({
  ...Common,
  messages: z
    .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant'], 'role is system, developer, user or assistant'), content: Content }))
    .min(1, 'messages needs at least one message'),
  max_tokens: opt(z.number().int().min(0)),
  max_completion_tokens: opt(z.number().int().min(0)),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(z.number().int().min(0).max(MAX_LOGPROBS)),
  tools: opt(z.array(z.unknown()).max(0, 'tools are not supported')),
  functions: opt(z.array(z.unknown()).max(0, 'functions are not supported')),
  response_format: opt(z.object({ type: z.literal('text', 'only response_format text is supported') }))
})
export type ChatBody = z.infer<typeof ChatBody>

/** A request the server refuses: its HTTP status and OpenAI's error fields. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error'
  ) {
    super(message)
  }
}

/** The body parsed by `schema`, or a 400 naming the first field at fault. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiRequestError(400, 'The request body must be a JSON object.')
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const param = issue.path.length ? issue.path.map(String).join('.') : null
  throw new ApiRequestError(400, `${param ?? 'body'}: ${issue.message}`, param, 'invalid_value')
}

/** The stop strings as a list. */
export function stopList(stop: string | string[] | null | undefined): string[] {
  return stop == null ? [] : typeof stop === 'string' ? [stop] : stop
}

/** Stops the chat template adds: the model beginning the next turn. */
export const CHAT_STOPS = ['\nUser:', '\nSystem:']

const ROLE_NAMES: Record<ChatBody['messages'][number]['role'], string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' }

/** The chat template (see the top of this file): the text after end-of-text that the model continues. */
export function chatPrompt(messages: ChatBody['messages']): string {
  const text = (c: ChatBody['messages'][number]['content']): string => (typeof c === 'string' ? c : c.map((p) => p.text).join(''))
  return messages.map((m) => `${ROLE_NAMES[m.role]}: ${text(m.content).trim()}\n`).join('') + 'Assistant:'
}
