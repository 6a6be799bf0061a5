// Reads the subset of Python that Colossal-AI config files are written in, without running
// Python: imports, top-level `NAME = expression` assignments, literals, dict(...) calls,
// arithmetic on numbers, and references to imported names (kept as symbols, never resolved). A
// name neither assigned nor imported (a class the config forgot to import) is kept as an opaque
// symbol with a warning. Anything else (def, if, loops, lambdas) is refused with the line it is on.

import { PythonConfigError, STATEMENT_KEYWORDS, type Token, tokenize } from './python-tokenize'

export { PythonConfigError }

/** A Python value as far as a config file needs: imported symbols and calls stay symbolic. */
export type PyValue = null | boolean | number | string | PyValue[] | PyDict | PyRef | PyCall | PyOpaque
export interface PyDict {
  kind: 'dict'
  entries: Record<string, PyValue>
}
/** An imported name or an attribute of one, e.g. `AMP_TYPE.NAIVE`, `torch.half`. */
export interface PyRef {
  kind: 'ref'
  name: string
  module: string | null
  /** Neither assigned nor imported before its use: an opaque symbol (a warning says so). */
  unknown?: true
}
/** A call of something other than dict(), e.g. `TensorShardStrategy()`. */
export interface PyCall {
  kind: 'call'
  callee: string
  args: PyValue[]
  kwargs: Record<string, PyValue>
}
/** An expression that was read but cannot be computed without Python (e.g. arithmetic on a symbol). */
export interface PyOpaque {
  kind: 'opaque'
  text: string
}

export interface PyAssignment {
  value: PyValue
  line: number
}

export interface PyModule {
  /** Top-level assignments in file order (a name assigned twice keeps its last value and line). */
  assignments: Map<string, PyAssignment>
  /** Imported local name -> its dotted origin ("gpt2_small" -> "titans.model.gpt.gpt2_small"). */
  imports: Map<string, string>
  /** Statements that were read but skipped (bare expressions other than docstrings). */
  warnings: string[]
}

/** Python's floor division and modulo (the sign follows the divisor). */
const floorDiv = (a: number, b: number): number => Math.floor(a / b)
const pyMod = (a: number, b: number): number => a - b * Math.floor(a / b)

class Parser {
  private pos = 0
  readonly module: PyModule = { assignments: new Map(), imports: new Map(), warnings: [] }
  private readonly unknownNames = new Set<string>()

  constructor(
    private readonly tokens: Token[],
    private readonly source: string
  ) {}

  parse(): PyModule {
    while (this.peek().type !== 'eof') this.statement()
    return this.module
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]
  }

  private next(): Token {
    return this.tokens[this.pos++]
  }

  private isOp(value: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t.type === 'op' && t.value === value
  }

  private expectOp(value: string, what: string): Token {
    const t = this.next()
    if (t.type !== 'op' || t.value !== value) throw new PythonConfigError(t.line, `expected "${value}" ${what}, found ${describe(t)}.`)
    return t
  }

  private expectName(what: string): string {
    const t = this.next()
    if (t.type !== 'name') throw new PythonConfigError(t.line, `expected ${what}, found ${describe(t)}.`)
    return t.value
  }

  private endOfStatement(): void {
    if (this.isOp(';')) {
      this.next()
      return
    }
    const t = this.next()
    if (t.type !== 'newline' && t.type !== 'eof') throw new PythonConfigError(t.line, `unexpected ${describe(t)} after the statement.`)
  }

  private statement(): void {
    const first = this.peek()
    if (first.type === 'newline') {
      this.next()
      return
    }
    if (first.indented) throw new PythonConfigError(first.line, 'unexpected indentation: only top-level assignments and imports are read.')
    if (first.type === 'name' && STATEMENT_KEYWORDS.has(first.value)) {
      throw new PythonConfigError(first.line, `"${first.value}" statements are not read: a config file here is plain assignments (NAME = value) and imports.`)
    }
    if (first.type === 'name' && first.value === 'import') return this.importStatement()
    if (first.type === 'name' && first.value === 'from') return this.fromImport()
    if (first.type === 'name' && this.isOp('=', 1)) {
      const targets: string[] = []
      while (this.peek().type === 'name' && this.isOp('=', 1)) {
        targets.push(this.next().value)
        this.next()
      }
      const value = this.expression()
      for (const name of targets) this.module.assignments.set(name, { value, line: first.line })
      return this.endOfStatement()
    }
    if (first.type === 'name' && this.peek(1).type === 'op' && /^(\*\*|\/\/|[-+*/%])=$/.test(this.peek(1).value)) {
      throw new PythonConfigError(first.line, `augmented assignment "${this.peek(1).value}" is not read; write ${first.value} = <value>.`)
    }
    const start = this.peek()
    const value = this.expression()
    if (typeof value !== 'string') this.module.warnings.push(`line ${start.line}: an expression statement was skipped (${this.source.slice(start.start, this.peek(-1).end).trim().slice(0, 60)}).`)
    this.endOfStatement()
  }

  private dotted(): string {
    let name = this.expectName('a module name')
    while (this.isOp('.')) {
      this.next()
      name += '.' + this.expectName('a module name')
    }
    return name
  }

  private importStatement(): void {
    this.next()
    for (;;) {
      const module = this.dotted()
      let local = module.split('.')[0]
      let origin = local
      if (this.peek().type === 'name' && this.peek().value === 'as') {
        this.next()
        local = this.expectName('a name after "as"')
        origin = module
      }
      this.module.imports.set(local, origin)
      if (!this.isOp(',')) break
      this.next()
    }
    this.endOfStatement()
  }

  private fromImport(): void {
    const line = this.next().line
    let module = ''
    while (this.isOp('.')) module += this.next().value
    if (this.peek().type === 'name' && this.peek().value !== 'import') module += this.dotted()
    const kw = this.next()
    if (kw.type !== 'name' || kw.value !== 'import') throw new PythonConfigError(line, 'expected "import" in a from-import.')
    if (this.isOp('*')) throw new PythonConfigError(line, `"from ${module} import *" hides which names exist; import the names one by one.`)
    const parens = this.isOp('(')
    if (parens) this.next()
    for (;;) {
      if (parens && this.isOp(')')) break
      const name = this.expectName('an imported name')
      let local = name
      if (this.peek().type === 'name' && this.peek().value === 'as') {
        this.next()
        local = this.expectName('a name after "as"')
      }
      this.module.imports.set(local, `${module}.${name}`)
      if (!this.isOp(',')) break
      this.next()
    }
    if (parens) this.expectOp(')', 'to close the import list')
    this.endOfStatement()
  }

  private expression(): PyValue {
    const start = this.peek()
    const value = this.sum()
    if (this.peek().type === 'name' && ['if', 'and', 'or', 'not', 'in', 'is', 'for'].includes(this.peek().value)) {
      throw new PythonConfigError(this.peek().line, `"${this.peek().value}" expressions are not read; write the value itself.`)
    }
    return this.opaqueIfMixed(value, start)
  }

  private opaqueIfMixed(value: PyValue, start: Token): PyValue {
    return value === OPAQUE ? { kind: 'opaque', text: this.source.slice(start.start, this.peek(-1).end).trim() } : value
  }

  private sum(): PyValue {
    let left = this.term()
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().value
      const right = this.term()
      left = arithmetic(op, left, right)
    }
    return left
  }

  private term(): PyValue {
    let left = this.unary()
    while (['*', '/', '//', '%', '@'].some((o) => this.isOp(o))) {
      const op = this.next().value
      const right = this.unary()
      left = arithmetic(op, left, right)
    }
    return left
  }

  private unary(): PyValue {
    if (this.isOp('-') || this.isOp('+') || this.isOp('~')) {
      const op = this.next().value
      const operand = this.unary()
      if (typeof operand !== 'number') return OPAQUE
      return op === '-' ? -operand : op === '~' ? ~operand : operand
    }
    return this.power()
  }

  private power(): PyValue {
    const base = this.primary()
    if (this.isOp('**')) {
      this.next()
      return arithmetic('**', base, this.unary())
    }
    return base
  }

  private primary(): PyValue {
    let value = this.atom()
    for (;;) {
      if (this.isOp('.')) {
        this.next()
        const attr = this.expectName('an attribute name')
        value = isRef(value) ? { kind: 'ref', name: `${value.name}.${attr}`, module: value.module, ...(value.unknown ? { unknown: true as const } : {}) } : OPAQUE
      } else if (this.isOp('(')) {
        value = this.call(value)
      } else if (this.isOp('[')) {
        this.next()
        const index = this.expression()
        this.expectOp(']', 'to close the subscript')
        value = subscript(value, index)
      } else {
        return value
      }
    }
  }

  private call(callee: PyValue): PyValue {
    const open = this.next()
    const args: PyValue[] = []
    const kwargs: Record<string, PyValue> = {}
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) throw new PythonConfigError(open.line, 'argument unpacking (* or **) is not read.')
      if (this.peek().type === 'name' && this.isOp('=', 1)) {
        const key = this.next().value
        this.next()
        kwargs[key] = this.expression()
      } else {
        args.push(this.expression())
      }
      if (!this.isOp(',')) break
      this.next()
    }
    this.expectOp(')', 'to close the call')
    if (callee === DICT_BUILTIN) {
      if (args.length) throw new PythonConfigError(open.line, 'dict(...) is read with keyword arguments only, e.g. dict(lr=0.00015).')
      return { kind: 'dict', entries: kwargs }
    }
    if (callee === LIST_BUILTIN || callee === TUPLE_BUILTIN) return Array.isArray(args[0]) ? [...args[0]] : OPAQUE
    if (isRef(callee)) return { kind: 'call', callee: callee.name, args, kwargs }
    return OPAQUE
  }

  private atom(): PyValue {
    const t = this.next()
    if (t.type === 'number') return t.literal as number
    if (t.type === 'string') {
      let text = t.literal as string
      while (this.peek().type === 'string') text += this.next().literal as string
      return text
    }
    if (t.type === 'name') {
      if (t.value === 'True') return true
      if (t.value === 'False') return false
      if (t.value === 'None') return null
      if (t.value === 'dict') return DICT_BUILTIN
      if (t.value === 'list') return LIST_BUILTIN
      if (t.value === 'tuple') return TUPLE_BUILTIN
      if (STATEMENT_KEYWORDS.has(t.value)) throw new PythonConfigError(t.line, `"${t.value}" is not read in a value.`)
      const assigned = this.module.assignments.get(t.value)
      if (assigned) return assigned.value
      const origin = this.module.imports.get(t.value)
      if (origin !== undefined) return { kind: 'ref', name: t.value, module: origin.includes('.') ? origin.slice(0, origin.lastIndexOf('.')) : null }
      // Configs name classes they never import (model = dict(type=GPTLMModel, ...)): Python would fail, but what they mean is plain.
      if (!this.unknownNames.has(t.value)) {
        this.unknownNames.add(t.value)
        this.module.warnings.push(`line ${t.line}: "${t.value}" is neither assigned nor imported before it is used; it is kept as an opaque symbol (its value is not known here).`)
      }
      return { kind: 'ref', name: t.value, module: null, unknown: true }
    }
    if (t.type === 'op' && t.value === '(') return this.sequence(')', 'tuple')
    if (t.type === 'op' && t.value === '[') return this.sequence(']', 'list')
    if (t.type === 'op' && t.value === '{') return this.dictLiteral(t)
    throw new PythonConfigError(t.line, `expected a value, found ${describe(t)}.`)
  }

  private sequence(close: ')' | ']', kind: 'tuple' | 'list'): PyValue {
    const items: PyValue[] = []
    let comma = false
    while (!this.isOp(close)) {
      items.push(this.expression())
      if (!this.isOp(',')) break
      this.next()
      comma = true
    }
    this.expectOp(close, `to close the ${kind}`)
    // (x) is x; (x,) and [x] are sequences.
    return kind === 'tuple' && items.length === 1 && !comma ? items[0] : items
  }

  private dictLiteral(open: Token): PyValue {
    const entries: Record<string, PyValue> = {}
    while (!this.isOp('}')) {
      const key = this.expression()
      if (typeof key !== 'string' && typeof key !== 'number') throw new PythonConfigError(open.line, 'dictionary keys must be strings or numbers.')
      this.expectOp(':', 'after a dictionary key')
      entries[String(key)] = this.expression()
      if (!this.isOp(',')) break
      this.next()
    }
    this.expectOp('}', 'to close the dictionary')
    return { kind: 'dict', entries }
  }
}

// Markers for builtins and uncomputable values while parsing; never returned to callers.
const DICT_BUILTIN: PyRef = { kind: 'ref', name: 'dict', module: 'builtins' }
const LIST_BUILTIN: PyRef = { kind: 'ref', name: 'list', module: 'builtins' }
const TUPLE_BUILTIN: PyRef = { kind: 'ref', name: 'tuple', module: 'builtins' }
const OPAQUE: PyOpaque = { kind: 'opaque', text: '' }

function isRef(v: PyValue): v is PyRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'ref'
}

function arithmetic(op: string, a: PyValue, b: PyValue): PyValue {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '+':
        return a + b
      case '-':
        return a - b
      case '*':
        return a * b
      case '/':
        return a / b
      case '//':
        return floorDiv(a, b)
      case '%':
        return pyMod(a, b)
      case '**':
        return a ** b
    }
  }
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b
  if (op === '*' && typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, b))
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b]
  return OPAQUE
}

function subscript(value: PyValue, index: PyValue): PyValue {
  if (Array.isArray(value) && typeof index === 'number') return value.at(index) ?? OPAQUE
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'dict' && (typeof index === 'string' || typeof index === 'number')) {
    return value.entries[String(index)] ?? OPAQUE
  }
  return OPAQUE
}

function describe(t: Token): string {
  if (t.type === 'newline') return 'the end of the line'
  if (t.type === 'eof') return 'the end of the file'
  return `"${t.value}"`
}

/** Parses a Colossal-AI style config file. Throws PythonConfigError naming the line. */
export function parsePythonConfig(source: string): PyModule {
  return new Parser(tokenize(source), source).parse()
}

/** A short Python-like rendering of a value for messages and the mapping table. */
export function formatPyValue(v: PyValue): string {
  if (v === null) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return `'${v}'`
  if (Array.isArray(v)) return `(${v.map(formatPyValue).join(', ')})`
  switch (v.kind) {
    case 'dict':
      return `dict(${Object.entries(v.entries)
        .map(([k, x]) => `${k}=${formatPyValue(x)}`)
        .join(', ')})`
    case 'ref':
      return v.name
    case 'call':
      return `${v.callee}(${[...v.args.map(formatPyValue), ...Object.entries(v.kwargs).map(([k, x]) => `${k}=${formatPyValue(x)}`)].join(', ')})`
    case 'opaque':
      return v.text
  }
}
