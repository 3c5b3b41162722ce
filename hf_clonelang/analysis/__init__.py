"""Measures of trained models: alignment of hidden states and gradients (`alignment`; on translation pairs:
`translation`; at every evaluation of any Trainer: `callback`), token efficiency (`efficiency`), finished runs
aligned from their folder or Hub repo (`runs`), and plots."""
