// The MATH dataset's answer checking (Hendrycks et al.'s is_equiv / strip_string, as the harness's
// hendrycks_math.py carries it): the last \boxed{...} of the solution against the model's answer
// after LaTeX normalisation. Where the Python raises (malformed input) it compares raw strings.

class NormaliseError extends Error {}

export function lastBoxedOnlyString(s: string): string | null {
  if (s.includes('\\boxed ')) return '\\boxed ' + s.split('\\boxed ').at(-1)!.split('$')[0]
  let idx = s.lastIndexOf('\\boxed')
  if (idx < 0) {
    idx = s.lastIndexOf('\\fbox')
    if (idx < 0) return null
  }
  let open = 0
  for (let i = idx; i < s.length; i++) {
    if (s[i] === '{') open++
    if (s[i] === '}') {
      open--
      if (open === 0) return s.slice(idx, i + 1)
    }
  }
  return null
}

export function removeBoxed(s: string | null): string | null {
  if (s === null) return null
  if (s.includes('\\boxed ')) return s.startsWith('\\boxed ') ? s.slice('\\boxed '.length) : null
  const left = '\\boxed{'
  if (!s.startsWith(left) || !s.endsWith('}')) return null
  return s.slice(left.length, -1)
}

function fixFracs(string: string): string {
  const substrs = string.split('\\frac')
  let out = substrs[0]
  for (const sub of substrs.slice(1)) {
    out += '\\frac'
    if (sub.length === 0) throw new NormaliseError('empty \\frac')
    if (sub[0] === '{') out += sub
    else {
      if (sub.length < 2) return string
      const [a, b] = [sub[0], sub[1]]
      if (b !== '{') out += `{${a}}{${b}}` + sub.slice(2)
      else out += `{${a}}${b}` + sub.slice(2)
    }
  }
  return out
}

function fixASlashB(string: string): string {
  const parts = string.split('/')
  if (parts.length !== 2) return string
  if (!/^\s*[+-]?\d+\s*$/.test(parts[0]) || !/^\s*[+-]?\d+\s*$/.test(parts[1])) return string
  const a = Number(parts[0])
  const b = Number(parts[1])
  if (string !== `${a}/${b}`) return string
  return `\\frac{${a}}{${b}}`
}

function removeRightUnits(string: string): string {
  if (!string.includes('\\text{ ')) return string
  const splits = string.split('\\text{ ')
  if (splits.length !== 2) throw new NormaliseError('several \\text{ units')
  return splits[0]
}

function fixSqrt(string: string): string {
  if (!string.includes('\\sqrt')) return string
  const splits = string.split('\\sqrt')
  let out = splits[0]
  for (const split of splits.slice(1)) {
    if (split.length === 0) throw new NormaliseError('empty \\sqrt')
    out += split[0] !== '{' ? `\\sqrt{${split[0]}}${split.slice(1)}` : `\\sqrt${split}`
  }
  return out
}

export function stripString(input: string): string {
  let s = input.replaceAll('\n', '').replaceAll('\\!', '').replaceAll('\\\\', '\\').replaceAll('tfrac', 'frac').replaceAll('dfrac', 'frac')
  s = s.replaceAll('\\left', '').replaceAll('\\right', '').replaceAll('^{\\circ}', '').replaceAll('^\\circ', '').replaceAll('\\$', '')
  s = removeRightUnits(s)
  s = s.replaceAll('\\%', '')
  s = s.replaceAll(' .', ' 0.').replaceAll('{.', '{0.')
  if (s.length === 0) return s
  if (s[0] === '.') s = '0' + s
  const eq = s.split('=')
  if (eq.length === 2 && eq[0].length <= 2) s = eq[1]
  s = fixSqrt(s)
  s = s.replaceAll(' ', '')
  s = fixFracs(s)
  if (s === '0.5') s = '\\frac{1}{2}'
  return fixASlashB(s)
}

export function isEquiv(a: string | null, b: string | null): boolean {
  if (a === null && b === null) return true
  if (a === null || b === null) return false
  try {
    return stripString(a) === stripString(b)
  } catch (e) {
    if (e instanceof NormaliseError) return a === b
    throw e
  }
}

/** The model's answer: the text between its first and last "$", or all of it. */
export function extractAnswer(generated: string): string {
  const first = generated.indexOf('$')
  const last = generated.lastIndexOf('$')
  return first < 0 || first === last ? generated : generated.slice(first + 1, last)
}
