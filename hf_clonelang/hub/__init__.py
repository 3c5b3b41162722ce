"""The Hub side of hf_clonelang: `cards` (model cards of runs, dataset cards of cloned corpora) and `push` (pushing
runs and corpus configs, and the request timeout that command entry points set once). Imports only core modules."""
