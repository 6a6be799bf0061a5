// The lm head of a decode step: C[m, n] = A[m, k] B[n, k]^T for few rows of A (one per sequence
// being decoded, m up to 16 per pass) against B read where it lies (the tied embedding
// [vocab, C], no transposed copy, no packing), both cores splitting B's rows.
#pragma once

namespace gptw {

// Each C element is one sum over k = 0..k-1 in order, whatever m is and wherever the row falls
// in the pass, so a sequence's logits are the same bits decoded alone or in a batch.
void rows_times_transposed(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc);

}  // namespace gptw
