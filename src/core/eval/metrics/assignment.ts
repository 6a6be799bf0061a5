// Maximum-weight assignment on a small rectangular matrix (what DROP's scorer gets from
// scipy.optimize.linear_sum_assignment(-scores)). Hungarian algorithm on the padded square matrix;
// returns, for each row, the assigned column (or -1 for padding).
export function maxWeightAssignment(scores: number[][]): number[] {
  const rows = scores.length
  const cols = rows === 0 ? 0 : scores[0].length
  const n = Math.max(rows, cols)
  if (n === 0) return []
  const cost = (i: number, j: number): number => (i < rows && j < cols ? -scores[i][j] : 0)
  const u = new Array<number>(n + 1).fill(0)
  const v = new Array<number>(n + 1).fill(0)
  const p = new Array<number>(n + 1).fill(0)
  const way = new Array<number>(n + 1).fill(0)
  for (let i = 1; i <= n; i++) {
    p[0] = i
    let j0 = 0
    const minv = new Array<number>(n + 1).fill(Infinity)
    const used = new Array<boolean>(n + 1).fill(false)
    do {
      used[j0] = true
      const i0 = p[j0]
      let delta = Infinity
      let j1 = 0
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j]
        if (cur < minv[j]) {
          minv[j] = cur
          way[j] = j0
        }
        if (minv[j] < delta) {
          delta = minv[j]
          j1 = j
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta
          v[j] -= delta
        } else minv[j] -= delta
      }
      j0 = j1
    } while (p[j0] !== 0)
    do {
      const j1 = way[j0]
      p[j0] = p[j1]
      j0 = j1
    } while (j0 !== 0)
  }
  const rowToCol = new Array<number>(rows).fill(-1)
  for (let j = 1; j <= n; j++) if (p[j] - 1 < rows && j - 1 < cols) rowToCol[p[j] - 1] = j - 1
  return rowToCol
}
