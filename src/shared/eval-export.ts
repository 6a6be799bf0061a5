// The results matrix as text: the Markdown table the CLI prints and the view exports (tasks and
// metrics down, checkpoints across, the GPT-2 small reference last), a long-format CSV, and JSON.
// Pure functions over result rows, shared by `gptw eval` and the Evaluate view.
import type { EvalResultRow, EvalTaskFailure } from './eval'
import { REFERENCE_MODEL, referenceFor } from './eval-reference'

export interface MatrixColumn {
  checkpoint: string
  label: string
}

export interface MatrixLine {
  task: string
  version: number
  metric: string
  higherIsBetter: boolean
  numFewshot: number
  /** One per column, in column order; null where that checkpoint has no value. */
  cells: (EvalResultRow | null)[]
}

/** Lines of the matrix (task, metric, few-shot), sorted by task then metric, with a cell per column. */
export function matrixLines(rows: readonly EvalResultRow[], columns: readonly MatrixColumn[]): MatrixLine[] {
  const lines = new Map<string, MatrixLine>()
  const at = new Map(columns.map((c, i) => [c.checkpoint, i]))
  for (const r of rows) {
    const col = at.get(r.checkpoint)
    if (col === undefined) continue
    const key = `${r.task}\u0000${r.metric}\u0000${r.numFewshot}`
    let line = lines.get(key)
    if (!line) lines.set(key, (line = { task: r.task, version: r.version, metric: r.metric, higherIsBetter: r.higherIsBetter, numFewshot: r.numFewshot, cells: columns.map(() => null) }))
    line.cells[col] = r
  }
  return [...lines.values()].sort((a, b) => a.task.localeCompare(b.task) || a.metric.localeCompare(b.metric) || a.numFewshot - b.numFewshot)
}

export function formatValue(value: number, digits = 4): string {
  return Math.abs(value) >= 1000 ? value.toExponential(3) : value.toFixed(digits)
}

export function formatCell(row: Pick<EvalResultRow, 'value' | 'stderr'> | null): string {
  if (!row) return ''
  return row.stderr === null ? formatValue(row.value) : `${formatValue(row.value)} ± ${formatValue(row.stderr)}`
}

const mdEscape = (s: string): string => s.replace(/\|/g, '\\|')

export function toMarkdown(rows: readonly EvalResultRow[], columns: readonly MatrixColumn[], failures: readonly EvalTaskFailure[] = []): string {
  const lines = matrixLines(rows, columns)
  const head = ['Task', 'Version', 'Metric', 'n-shot', ...columns.map((c) => mdEscape(c.label)), `${REFERENCE_MODEL} (published)`]
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 4 && i !== 1 && i !== 3 ? '---' : '---:')).join('|')}|`]
  for (const l of lines) {
    const ref = referenceFor(l.task, l.metric, l.numFewshot)
    out.push(`| ${[l.task, String(l.version), `${l.metric} ${l.higherIsBetter ? '↑' : '↓'}`, String(l.numFewshot), ...l.cells.map(formatCell), ref ? formatCell(ref) : ''].join(' | ')} |`)
  }
  if (failures.length) {
    out.push('', 'Not evaluated:')
    for (const f of failures) out.push(`- ${f.task} on ${mdEscape(columns.find((c) => c.checkpoint === f.checkpoint)?.label ?? f.checkpoint)}: ${f.message}`)
  }
  const refs = [...new Set(lines.flatMap((l) => referenceFor(l.task, l.metric, l.numFewshot) ?? []).map((r) => `${r.source} (${r.url})`))]
  if (refs.length) out.push('', `Reference: ${refs.join('; ')}`)
  return out.join('\n') + '\n'
}

const csvField = (v: string | number | null): string => {
  if (v === null) return ''
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** One line per cell, with the published reference where there is one. */
export function toCsv(rows: readonly EvalResultRow[], columns: readonly MatrixColumn[]): string {
  const head = ['checkpoint', 'label', 'fingerprint', 'task', 'version', 'metric', 'value', 'stderr', 'higher_is_better', 'num_fewshot', 'documents', 'limit', 'reference', 'reference_stderr']
  const label = new Map(columns.map((c) => [c.checkpoint, c.label]))
  const body = matrixLines(rows, columns).flatMap((l) =>
    l.cells.flatMap((r) => {
      if (!r) return []
      const ref = referenceFor(r.task, r.metric, r.numFewshot)
      return [
        [
          r.checkpoint,
          label.get(r.checkpoint) ?? r.checkpoint,
          r.fingerprint,
          r.task,
          r.version,
          r.metric,
          r.value,
          r.stderr,
          r.higherIsBetter ? 1 : 0,
          r.numFewshot,
          r.documents,
          r.limit,
          ref?.value ?? null,
          ref?.stderr ?? null
        ]
          .map(csvField)
          .join(',')
      ]
    })
  )
  return [head.join(','), ...body].join('\n') + '\n'
}

export function toJson(rows: readonly EvalResultRow[], columns: readonly MatrixColumn[], failures: readonly EvalTaskFailure[] = []): string {
  const results = matrixLines(rows, columns).map((l) => ({
    task: l.task,
    version: l.version,
    metric: l.metric,
    higherIsBetter: l.higherIsBetter,
    numFewshot: l.numFewshot,
    reference: referenceFor(l.task, l.metric, l.numFewshot),
    values: Object.fromEntries(
      l.cells.flatMap((r, i) => (r ? [[columns[i].checkpoint, { value: r.value, stderr: r.stderr, documents: r.documents, limit: r.limit, fingerprint: r.fingerprint }]] : []))
    )
  }))
  return JSON.stringify({ referenceModel: REFERENCE_MODEL, checkpoints: columns, results, failures }, null, 2) + '\n'
}
