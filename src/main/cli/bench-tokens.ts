// The bench's training data: uniform pseudo-random token ids from a fixed LCG, as the PyTorch
// yardstick draws them, so every section and run trains on the same numbers.
export function randomTokens(count: number, below: number): Uint16Array {
  const tokens = new Uint16Array(count)
  let seed = 1
  for (let i = 0; i < count; i++) tokens[i] = (seed = (seed * 1103515245 + 12345) >>> 0) % below
  return tokens
}
