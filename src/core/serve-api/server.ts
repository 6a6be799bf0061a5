// An OpenAI-compatible HTTP API over loaded checkpoints (node:http, no framework), usable in the
// CLI process or inside a worker: GET /v1/models, POST /v1/completions, POST
// /v1/chat/completions, JSON or server-sent events. Each request's completions go to its model's
// BatchGenerator, so concurrent requests are decoded together. Errors are OpenAI's JSON shape
// ({ error: { message, type, param, code } }): 400 for a bad field (named), 401 without the key,
// 404 for an unknown model or route, 413 for a prompt past the context or an oversized body, 429
// when the model's queue is full. A client that goes away cancels its sequences. Bound to
// 127.0.0.1 by default; any other address needs an API key. Parameters: see protocol.ts.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { END_OF_TEXT, decodeTokens, encodeText } from '../data/gpt2-tokenizer'
import { QueueFullError, type SequenceHandle, type SequenceRequest, type SequenceResult, type TokenLogprob } from '../generate/batch-generator'
import type { AnyServedModel as ServedModel } from './models'
import { ApiRequestError, CHAT_STOPS, ChatBody, CompletionBody, MAX_CHOICES, MAX_REQUEST_TOKENS, chatPrompt, parseBody, stopList } from './protocol'

export interface ApiServerOptions {
  models: ServedModel[]
  /** Default 127.0.0.1; another address is refused without apiKey. */
  host?: string
  /** Default 0: a free port. */
  port?: number
  /** When set, every request needs `Authorization: Bearer <key>`. */
  apiKey?: string | null
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number
}

export interface ApiServerStats {
  /** Requests answered (any status). */
  requests: number
  /** Requests in progress. */
  active: number
  /** Requests answered with an error. */
  errors: number
  promptTokens: number
  completionTokens: number
}

export interface ApiServer {
  /** http://host:port (no trailing slash); the OpenAI base URL is url + '/v1'. */
  readonly url: string
  readonly port: number
  readonly stats: ApiServerStats
  close(): Promise<void>
}

const DEFAULT_MAX_BODY = 1 << 20

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1'
  const apiKey = options.apiKey || null
  if (!isLoopback(host) && !apiKey) throw new Error(`Serving on ${host} makes the models reachable from other machines: give an API key (--api-key) to do that, or serve on 127.0.0.1.`)
  if (!options.models.length) throw new Error('Nothing to serve: give at least one checkpoint.')
  const stats: ApiServerStats = { requests: 0, active: 0, errors: 0, promptTokens: 0, completionTokens: 0 }
  const api = new Api(options.models, apiKey, options.maxBodyBytes ?? DEFAULT_MAX_BODY, stats)
  const server = http.createServer((req, res) => void api.handle(req, res))
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** One prompt of a request: the ids the model reads and what echo shows of them. */
interface PromptIn {
  ids: number[]
  /** The echoed text: the prompt text, or the ids decoded. */
  text: string
  /** Ids before this index are not echoed (end-of-text put before a text prompt). */
  echoFrom: number
}

class Api {
  private readonly byId: Map<string, ServedModel>

  constructor(
    models: ServedModel[],
    private readonly apiKey: string | null,
    private readonly maxBody: number,
    private readonly stats: ApiServerStats
  ) {
    this.byId = new Map(models.map((m) => [m.id, m]))
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.active++
    try {
      const route = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
      this.authorize(req)
      if (route === '/v1/models' || route.startsWith('/v1/models/')) {
        if (req.method !== 'GET') throw new ApiRequestError(405, `${req.method} is not allowed on ${route}: use GET.`)
        return this.models(route, res)
      }
      if (route === '/v1/completions' || route === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new ApiRequestError(405, `${req.method} is not allowed on ${route}: use POST.`)
        const body = await this.readJson(req)
        return route === '/v1/completions' ? await this.completions(body, req, res) : await this.chat(body, req, res)
      }
      throw new ApiRequestError(404, `No route ${req.method} ${route}. The API has GET /v1/models, POST /v1/completions and POST /v1/chat/completions.`, null, 'unknown_url')
    } catch (err) {
      this.fail(res, err)
    } finally {
      this.stats.active--
      this.stats.requests++
    }
  }

  private authorize(req: http.IncomingMessage): void {
    if (!this.apiKey) return
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? ''
    const a = Buffer.from(given)
    const b = Buffer.from(this.apiKey)
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new ApiRequestError(401, given ? 'Incorrect API key provided.' : 'No API key provided: send it as "Authorization: Bearer KEY".', null, 'invalid_api_key')
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    this.stats.errors++
    const e = err instanceof ApiRequestError ? err : new ApiRequestError(500, (err as Error).message ?? String(err), null, 'internal_error')
    const error = { message: e.message, type: e.type, param: e.param, code: e.code }
    if (res.headersSent) {
      // A stream already under way: the error as one last event.
      if (!res.writableEnded) res.end(`data: ${JSON.stringify({ error })}\n\n`)
      return
    }
    sendJson(res, e.status, { error })
  }

  private readJson(req: http.IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > this.maxBody) return Promise.reject(tooLarge(this.maxBody))
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      let over = false
      req.on('data', (chunk: Buffer) => {
        if (over) return
        size += chunk.length
        if (size > this.maxBody) {
          over = true
          chunks.length = 0
          reject(tooLarge(this.maxBody))
        } else chunks.push(chunk)
      })
      req.on('error', reject)
      req.on('end', () => {
        if (over) return
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch (err) {
          reject(new ApiRequestError(400, `The request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json'))
        }
      })
    })
  }

  private models(route: string, res: http.ServerResponse): void {
    const entry = (m: ServedModel) => ({ id: m.id, object: 'model', created: m.created, owned_by: 'gpt-workbench' })
    if (route === '/v1/models') return sendJson(res, 200, { object: 'list', data: [...this.byId.values()].map(entry) })
    const id = decodeURIComponent(route.slice('/v1/models/'.length))
    sendJson(res, 200, entry(this.model(id)))
  }

  private model(id: string): ServedModel {
    const m = this.byId.get(id)
    if (!m) throw new ApiRequestError(404, `The model '${id}' does not exist. Served here: ${[...this.byId.keys()].join(', ')}.`, 'model', 'model_not_found')
    return m
  }

  private textIds(m: ServedModel, text: string): number[] {
    const vocab = m.generator.model.config.vocabSize
    if (vocab <= END_OF_TEXT) throw new ApiRequestError(400, `Model ${m.id} has a vocabulary of ${vocab} tokens, not GPT-2's: give the prompt as token ids.`, 'prompt', 'invalid_value')
    return [END_OF_TEXT, ...encodeText(text)]
  }

  private prompts(m: ServedModel, prompt: CompletionBody['prompt']): PromptIn[] {
    const { vocabSize, nCtx } = m.generator.model.config
    const raw: (string | number[])[] = prompt == null ? [''] : typeof prompt === 'string' ? [prompt] : typeof prompt[0] === 'number' ? [prompt as number[]] : (prompt as string[] | number[][])
    const out = raw.map((p): PromptIn => {
      if (typeof p === 'string') return { ids: this.textIds(m, p), text: p, echoFrom: 1 }
      const bad = p.find((id) => id < 0 || id >= vocabSize)
      if (bad !== undefined) throw new ApiRequestError(400, `prompt: token id ${bad} is outside the model's vocabulary (0 to ${vocabSize - 1}).`, 'prompt', 'invalid_token')
      return { ids: p, text: decodeTokens(p), echoFrom: 0 }
    })
    const long = out.find((p) => p.ids.length > nCtx)
    if (long) throw new ApiRequestError(413, `The prompt has ${long.ids.length} tokens, more than model ${m.id}'s context of ${nCtx}.`, 'prompt', 'context_length_exceeded')
    return out
  }

  /** Checks the request's size, queues one sequence per prompt and choice, and cancels them if the client goes away. */
  private submit(
    m: ServedModel,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    reqs: SequenceRequest[],
    onText: (choice: number, delta: string, tokens: TokenLogprob[]) => void
  ): Promise<SequenceResult>[] {
    if (reqs.length > MAX_CHOICES) throw new ApiRequestError(400, `n: ${reqs.length} completions in one request; at most ${MAX_CHOICES}.`, 'n', 'invalid_value')
    const total = reqs.reduce((s, r) => s + r.maxTokens, 0)
    if (total > MAX_REQUEST_TOKENS) throw new ApiRequestError(400, `max_tokens: n x prompts x max_tokens is ${total} tokens; at most ${MAX_REQUEST_TOKENS} per request.`, 'max_tokens', 'invalid_value')
    const g = m.generator
    if (!g.canTake(reqs.length))
      throw new ApiRequestError(
        429,
        `Model ${m.id} is busy: ${g.load.active} sequences decoding and ${g.load.waiting} waiting (the queue holds ${g.maxQueue}). Try again shortly.`,
        null,
        'rate_limit_exceeded'
      )
    const handles: SequenceHandle[] = []
    try {
      for (const [i, r] of reqs.entries()) handles.push(g.submit(r, { onText: (delta, tokens) => onText(i, delta, tokens) }))
    } catch (err) {
      // None of the request's sequences runs when one of them is refused.
      for (const h of handles) h.cancel()
      if (err instanceof QueueFullError) throw new ApiRequestError(429, err.message, null, 'rate_limit_exceeded')
      throw new ApiRequestError(400, (err as Error).message, 'prompt', 'invalid_value')
    }
    let finished = false
    const gone = (): void => {
      if (!finished) for (const h of handles) h.cancel()
    }
    res.on('close', gone)
    req.on('aborted', gone)
    const results = handles.map((h) => h.result)
    void Promise.allSettled(results).then(() => (finished = true))
    return results
  }

  private sampling(body: CompletionBody | ChatBody, n: number, ids: number[], maxTokens: number, stop: string[], logprobs: number | null, promptLogprobs: boolean): SequenceRequest[] {
    const seed = body.seed ?? randomInt(2 ** 31)
    return Array.from({ length: n }, (_, j) => ({
      ids,
      maxTokens,
      // Choice j of a prompt draws with seed + j: one request with n choices gives what n requests with those seeds give.
      sampling: {
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        topK: body.top_k ?? 0,
        repetitionPenalty: body.repetition_penalty ?? 1,
        presencePenalty: body.presence_penalty ?? 0,
        frequencyPenalty: body.frequency_penalty ?? 0,
        seed: (seed + j) >>> 0
      },
      stop,
      stopAtEndOfText: true,
      logprobs,
      promptLogprobs
    }))
  }

  private async completions(raw: unknown, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = parseBody(CompletionBody, raw)
    const m = this.model(body.model)
    const n = body.n ?? 1
    if (body.best_of != null && body.best_of !== n) throw new ApiRequestError(400, 'best_of: only best_of equal to n (or none) is supported.', 'best_of', 'unsupported_value')
    const prompts = this.prompts(m, body.prompt)
    const echo = body.echo ?? false
    const logprobs = body.logprobs ?? null
    const maxTokens = body.max_tokens ?? 16
    const stop = stopList(body.stop)
    const reqs = prompts.flatMap((p) => this.sampling(body, n, p.ids, maxTokens, stop, logprobs, echo && logprobs !== null))
    const id = `cmpl-${randomBytes(12).toString('hex')}`
    const created = Math.floor(Date.now() / 1000)
    const promptTokens = prompts.reduce((s, p) => s + p.ids.length, 0)
    const head = { id, object: 'text_completion', created, model: m.id }
    const stream = body.stream ?? false
    const offsets = reqs.map((_, i) => (echo ? prompts[Math.floor(i / n)].text.length : 0))
    const results = this.submit(m, req, res, reqs, (i, delta, tokens) => {
      if (!stream) return
      const lp =
        logprobs === null
          ? null
          : completionLogprobs(
              tokens.map((t) => ({ id: t.id, lp: t })),
              offsets[i]
            )
      offsets[i] += delta.length
      sendEvent(res, { ...head, choices: [{ text: delta, index: i, logprobs: lp, finish_reason: null }] })
    })
    const echoed = (i: number, r: SequenceResult) => {
      const p = prompts[Math.floor(i / n)]
      return p.ids.slice(p.echoFrom).map((tid, k) => ({ id: tid, lp: r.promptLogprobs?.[p.echoFrom + k] ?? null }))
    }
    if (stream) {
      // Headers only once the request is taken (a 429 is still a plain error). The sequences'
      // first text comes after a prefill's await, so nothing is lost before this.
      startEvents(res)
      // The echoed prompt goes first (its logprobs come with the prefill, so they are sent with the finish).
      if (echo) for (const [i] of reqs.entries()) sendEvent(res, { ...head, choices: [{ text: prompts[Math.floor(i / n)].text, index: i, logprobs: null, finish_reason: null }] })
      const done = await Promise.all(
        results.map((r, i) =>
          r.then((out) => {
            const lp = logprobs !== null && echo ? completionLogprobs(echoed(i, out), 0) : null
            sendEvent(res, { ...head, choices: [{ text: '', index: i, logprobs: lp, finish_reason: finishReason(out) }] })
            return out
          })
        )
      )
      const completionTokens = done.reduce((s, r) => s + r.ids.length, 0)
      this.count(promptTokens, completionTokens)
      if (body.stream_options?.include_usage) sendEvent(res, { ...head, choices: [], usage: usage(promptTokens, completionTokens) })
      return endEvents(res)
    }
    const done = await Promise.all(results)
    if (res.destroyed) return
    const completionTokens = done.reduce((s, r) => s + r.ids.length, 0)
    this.count(promptTokens, completionTokens)
    const choices = done.map((r, i) => {
      const p = prompts[Math.floor(i / n)]
      const generated = r.tokens.map((t) => ({ id: t.id, lp: t as TokenLogprob | null }))
      const lp = logprobs === null ? null : completionLogprobs([...(echo ? echoed(i, r) : []), ...generated], 0)
      return { text: (echo ? p.text : '') + r.text, index: i, logprobs: lp, finish_reason: finishReason(r) }
    })
    sendJson(res, 200, { ...head, choices, usage: usage(promptTokens, completionTokens) })
  }

  private async chat(raw: unknown, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = parseBody(ChatBody, raw)
    const m = this.model(body.model)
    const n = body.n ?? 1
    const ids = this.textIds(m, chatPrompt(body.messages))
    const { nCtx } = m.generator.model.config
    if (ids.length > nCtx) throw new ApiRequestError(413, `The conversation has ${ids.length} tokens, more than model ${m.id}'s context of ${nCtx}.`, 'messages', 'context_length_exceeded')
    // Without a limit a reply may run to the end of the context.
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? nCtx - ids.length + 1
    const logprobs = body.logprobs ? (body.top_logprobs ?? 0) : null
    const reqs = this.sampling(body, n, ids, maxTokens, [...stopList(body.stop), ...CHAT_STOPS], logprobs, false)
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`
    const head = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: m.id }
    const stream = body.stream ?? false
    // One leading space of the reply is the template's ("Assistant:" + " Hello"): dropped, streaming or not.
    const started = reqs.map(() => false)
    const trimStart = (i: number, delta: string): string => {
      if (started[i] || !delta) return delta
      started[i] = true
      return delta.startsWith(' ') ? delta.slice(1) : delta
    }
    const results = this.submit(m, req, res, reqs, (i, delta, tokens) => {
      if (!stream) return
      sendEvent(res, { ...head, choices: [{ index: i, delta: { content: trimStart(i, delta) }, logprobs: logprobs === null ? null : chatLogprobs(tokens), finish_reason: null }] })
    })
    if (stream) {
      startEvents(res)
      for (const [i] of reqs.entries()) sendEvent(res, { ...head, choices: [{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })
      const done = await Promise.all(
        results.map((r, i) =>
          r.then((out) => {
            sendEvent(res, { ...head, choices: [{ index: i, delta: {}, logprobs: null, finish_reason: finishReason(out) }] })
            return out
          })
        )
      )
      const completionTokens = done.reduce((s, r) => s + r.ids.length, 0)
      this.count(ids.length, completionTokens)
      if (body.stream_options?.include_usage) sendEvent(res, { ...head, choices: [], usage: usage(ids.length, completionTokens) })
      return endEvents(res)
    }
    const done = await Promise.all(results)
    if (res.destroyed) return
    const completionTokens = done.reduce((s, r) => s + r.ids.length, 0)
    this.count(ids.length, completionTokens)
    sendJson(res, 200, {
      ...head,
      object: 'chat.completion',
      choices: done.map((r, i) => ({
        index: i,
        message: { role: 'assistant', content: trimStart(i, r.text) },
        logprobs: logprobs === null ? null : chatLogprobs(r.tokens),
        finish_reason: finishReason(r)
      })),
      usage: usage(ids.length, completionTokens)
    })
  }

  private count(prompt: number, completion: number): void {
    this.stats.promptTokens += prompt
    this.stats.completionTokens += completion
  }
}

function tooLarge(limit: number): ApiRequestError {
  return new ApiRequestError(413, `The request body is larger than ${limit} bytes.`, null, 'body_too_large')
}

function finishReason(r: SequenceResult): 'stop' | 'length' {
  return r.finishReason === 'stop' ? 'stop' : 'length'
}

function usage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** The completions API's logprobs object; text_offset counts from `offset` (the characters before the first token). */
function completionLogprobs(entries: { id: number; lp: TokenLogprob | null }[], offset: number) {
  const tokens: string[] = []
  const textOffset: number[] = []
  for (const e of entries) {
    const t = decodeTokens([e.id])
    tokens.push(t)
    textOffset.push(offset)
    offset += t.length
  }
  return {
    tokens,
    token_logprobs: entries.map((e) => e.lp?.logprob ?? null),
    top_logprobs: entries.map((e) => (e.lp ? Object.fromEntries(e.lp.top.map((a) => [decodeTokens([a.id]), a.logprob])) : null)),
    text_offset: textOffset
  }
}

/** The chat API's logprobs object. */
function chatLogprobs(tokens: TokenLogprob[]) {
  const entry = (id: number, logprob: number) => {
    const token = decodeTokens([id])
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] }
  }
  return { content: tokens.map((t) => ({ ...entry(t.id, t.logprob), top_logprobs: t.top.map((a) => entry(a.id, a.logprob)) })) }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function startEvents(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
}

function sendEvent(res: http.ServerResponse, body: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(body)}\n\n`)
}

function endEvents(res: http.ServerResponse): void {
  if (!res.writableEnded && !res.destroyed) res.end('data: [DONE]\n\n')
}
