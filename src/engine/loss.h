/* loss.h: softmax cross-entropy over rows of logits, the core of the exact
 * non-parametric softmax (logits = f V^T / tau, target = own index). */
#pragma once

/* logits (B, N), targets (B) -> probs (B, N); returns the mean loss
 * -1/B sum_b log softmax(logits_b)[target_b]; probs may equal logits */
float softmax_cross_entropy_forward (float *probs, const float *logits,
                                     const int *targets, int batch, int n);
/* dlogits (B, N) = (probs - onehot(targets)) / B; dlogits may equal probs */
void softmax_cross_entropy_backward (float *dlogits, const float *probs,
                                     const int *targets, int batch, int n);
