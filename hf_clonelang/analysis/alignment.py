"""Alignment of representations and gradients across languages, on parallel text (the same blocks in two
languages — the builder's ``validation_L{k}`` splits give them for free). The paper's definitions are the defaults.

Measures, for a pair of languages (a, b); per-layer lists start with the embeddings (the first block's input), then
every transformer block's output — the residual stream, read with forward hooks, before any final norm:

* ``hidden_cosine``: cosine between the hidden states of the same position in the two languages, averaged over the
  non-padding positions of each pair of blocks, then over pairs (the paper's measure). Batched; the original
  analysis needed batch size 1.
* ``hidden_cosine_centred``: the same after subtracting each language's mean state per layer. At small scale the
  raw cosine is dominated by a language-identity offset (docs/analysis.md); centring removes it.
* ``retrieval_at_1``: for each block in language a (mean-pooled and centred representation), is its nearest
  block in language b the parallel one?
* ``cka``: linear CKA between the pooled representations of the blocks in the two languages.
* ``gradient_cosine``: the paper's estimator. For each parallel pair separately (one block in each language, mean
  token loss) the cosine between the two loss gradients per parameter tensor; averaged over pairs
  (``gradient_cosine_per_tensor``, every tensor), then over the transformer blocks' tensors whose gradient is defined
  (``gradient_cosine_mean``, the headline number) and per layer (the same tensors). GPT-2 fuses Q, K and V in
  ``c_attn``: by default they are split into separate tensors as in the paper's model (16 tensors per block). The
  key bias then gets no gradient (softmax ignores a shift shared by all keys): in float32 its norm is rounding,
  ~1e-11, and torch's clamped cosine of it is ~0, which would pull the mean down by up to 1/16. Such tensors (see
  `UNDEFINED_GRADIENT_RTOL`) are left out of the headline and named (``gradient_undefined_tensors``); the mean over
  every tensor stays as ``gradient_cosine_mean_all_tensors``. (The paper's fp16 run filled that heatmap cell with
  rounding noise: its Figure 11 key-bias row averages 0.27 at 90/10, 0.05 at 50/50.) Gradients come from
  `torch.autograd.grad` (``.grad`` and the optimizer are untouched).
* ``embedding_cosine``: cosine between the input (and output) embedding of each cloned token and its clone,
  overall and by token-frequency bin, with the all-pairs baseline.

For real language pairs, whose tokens do not line up, ``matching="hungarian"`` computes for each pair of sequences
one maximum-weight bipartite matching (`scipy.optimize.linear_sum_assignment`) on the cosine similarity averaged
over the blocks' outputs, and reuses it for every layer (the paper's method). Everything returns JSON-able dicts.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..common import block_mean
from ..tokenization.cloned_tokenizer import ClonedTokenizer

logger = logging.getLogger(__name__)

_LAYER = re.compile(r"\.(?:h|layers|layer|blocks)\.(\d+)\.")
_EMBEDDING_NAMES = ("wte", "embed_tokens", "word_embeddings", "lm_head", "embed_out")


# ---------------------------------------------------------------------- small measures
def max_weight_matching(similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a maximum-weight bipartite matching of a (n, m) similarity matrix (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(np.asarray(similarity, dtype=np.float64), maximize=True)


def matched_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean cosine of the best one-to-one matching between the rows of ``a`` (n, d) and ``b`` (m, d)."""
    sim = (F.normalize(a.double(), dim=-1) @ F.normalize(b.double(), dim=-1).T).cpu().numpy()
    rows, cols = max_weight_matching(sim)
    return float(sim[rows, cols].mean())


def retrieval_at_1(x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows of ``x`` whose most similar row of ``y`` (cosine) is the parallel one (same index)."""
    sim = F.normalize(x.double(), dim=-1) @ F.normalize(y.double(), dim=-1).T
    return float((sim.argmax(dim=1) == torch.arange(len(x), device=sim.device)).double().mean())


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear centred kernel alignment between representations ``x`` (n, d1) and ``y`` (n, d2)."""
    x = x.double() - x.double().mean(dim=0)
    y = y.double() - y.double().mean(dim=0)
    cross = torch.linalg.matrix_norm(x.T @ y) ** 2
    denom = torch.linalg.matrix_norm(x.T @ x) * torch.linalg.matrix_norm(y.T @ y)
    return float(cross / denom) if denom > 0 else 0.0


def _batches(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def transformer_blocks(model: Any) -> Any:
    """The model's list of transformer blocks (GPT-2's ``transformer.h``, Llama's ``model.layers``, ...): the
    `torch.nn.ModuleList` with one entry per hidden layer."""
    layers = getattr(model.config, "num_hidden_layers", None)
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == layers:
            return module
    raise ValueError(f"cannot find the {layers} transformer blocks of {type(model).__name__}")


@torch.no_grad()
def block_outputs(model: Any, ids: torch.Tensor, mask: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Hidden states per layer, in float64: the input of the first block (the embeddings), then every block's
    output — the residual stream before any final norm (``output_hidden_states`` would give the last block's output
    after the final LayerNorm). Runs the base model only: no logits are computed."""
    blocks = transformer_blocks(model)
    states: list[torch.Tensor] = []

    def take_input(module: Any, args: tuple, kwargs: dict) -> None:
        states.append((args[0] if args else kwargs["hidden_states"]).double())

    def take_output(module: Any, args: tuple, output: Any) -> None:
        states.append((output[0] if isinstance(output, (tuple, list)) else output).double())

    handles = [blocks[0].register_forward_pre_hook(take_input, with_kwargs=True)]
    handles += [block.register_forward_hook(take_output) for block in blocks]
    try:
        getattr(model, "base_model", model)(input_ids=ids, attention_mask=mask)
    finally:
        for handle in handles:
            handle.remove()
    if len(states) != len(blocks) + 1:
        raise ValueError(f"expected {len(blocks) + 1} hidden states from {type(model).__name__}, got {len(states)}")
    return states


# ---------------------------------------------------------------------- hidden states
class _States:
    """Hidden states of blocks, batch by batch. The first pass computes them; later passes replay a cache when the
    states fit in ``cache_bytes``, and recompute them otherwise (memory stays bounded either way)."""

    def __init__(self, model: Any, ids: torch.Tensor, mask: torch.Tensor, batch_size: int, cache_bytes: int) -> None:
        self.model, self.ids, self.mask, self.batch_size = model, ids, mask, batch_size
        self.device = next(model.parameters()).device
        layers = getattr(model.config, "num_hidden_layers", 0) + 1
        width = getattr(model.config, "hidden_size", 1)
        self.keep = ids.numel() * layers * width * 8 <= cache_bytes
        self._cache: list | None = None

    def __iter__(self) -> Any:
        if self._cache is not None:
            yield from self._cache
            return
        kept = []
        for sl in _batches(len(self.ids), self.batch_size):
            m = self.mask[sl].to(self.device)
            item = (m, block_outputs(self.model, self.ids[sl].to(self.device), m))
            if self.keep:
                kept.append(item)
            yield item
        if self.keep:
            self._cache = kept


def hidden_alignment(
    model: Any,
    ids_a: torch.Tensor,
    ids_b: torch.Tensor,
    mask_a: torch.Tensor | None = None,
    mask_b: torch.Tensor | None = None,
    batch_size: int = 32,
    matching: str = "position",
    cache_bytes: int = 512 * 2**20,
) -> dict[str, list[float]]:
    """Per-layer hidden-state measures of parallel blocks ``ids_a`` / ``ids_b`` (n, T) (see the module docstring).

    The first pass over the blocks gives each language's mean state per layer (for centring); the second the
    cosines and the pooled block representations (for retrieval and CKA). States that fit in ``cache_bytes`` are
    kept between the passes, so each block goes through the model once.
    """
    if matching not in ("position", "hungarian"):
        raise ValueError(f"matching={matching!r} is not allowed: use 'position' or 'hungarian'")
    if matching == "position" and ids_a.shape != ids_b.shape:
        raise ValueError("position-wise matching needs blocks of equal shape; use matching='hungarian'")
    was_training = model.training
    model.eval()
    states = [
        _States(model, ids, m if m is not None else torch.ones_like(ids), batch_size, cache_bytes // 2)
        for ids, m in ((ids_a, mask_a), (ids_b, mask_b))
    ]
    try:
        means = [_mean_states(s) for s in states]
        raw_sum = centred_sum = None
        pairs = 0
        pooled: list[list[torch.Tensor]] = [[], []]
        for (ma, ha), (mb, hb) in zip(states[0], states[1], strict=True):
            pooled[0].append(torch.stack([_pool(h, ma) for h in ha], dim=1).cpu())
            pooled[1].append(torch.stack([_pool(h, mb) for h in hb], dim=1).cpu())
            if matching == "position":
                raw, cen, n = _position_sums(ha, hb, ma, mb, means)
            else:
                raw, cen, n = _matched_sums(ha, hb, ma, mb, means)
            raw_sum = raw if raw_sum is None else raw_sum + raw
            centred_sum = cen if centred_sum is None else centred_sum + cen
            pairs += n
    finally:
        model.train(was_training)
    pa, pb = torch.cat(pooled[0]), torch.cat(pooled[1])  # (n, layers, d)
    retrieval, cka = [], []
    for layer in range(pa.shape[1]):
        x, y = pa[:, layer], pb[:, layer]
        retrieval.append(retrieval_at_1(x - x.mean(dim=0), y - y.mean(dim=0)))
        cka.append(linear_cka(x, y))
    return {
        "hidden_cosine": (raw_sum / max(pairs, 1)).tolist(),
        "hidden_cosine_centred": (centred_sum / max(pairs, 1)).tolist(),
        "retrieval_at_1": retrieval,
        "cka": cka,
    }


def _pool(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.double().unsqueeze(-1)
    return (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)


def _mean_states(states: _States) -> list:
    sums, total = None, 0.0
    for m, hs in states:
        w = m.double().unsqueeze(-1)
        batch = [(h * w).sum(dim=(0, 1)) for h in hs]
        sums = batch if sums is None else [s + b for s, b in zip(sums, batch, strict=False)]
        total += float(w.sum())
    return [s / max(total, 1.0) for s in sums]


def _position_sums(ha: list, hb: list, ma: torch.Tensor, mb: torch.Tensor, means: list) -> tuple:
    """Per layer, the sum over pairs of each pair's mean cosine over its positions (raw and centred)."""
    valid = (ma * mb).double()
    count = valid.sum(dim=1)
    keep = count > 0

    def per_pair(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((F.cosine_similarity(x, y, dim=-1) * valid).sum(dim=1)[keep] / count[keep]).sum()

    raw = torch.stack([per_pair(x, y) for x, y in zip(ha, hb, strict=True)])
    cen = torch.stack([per_pair(x - mx, y - my) for x, y, mx, my in zip(ha, hb, means[0], means[1], strict=True)])
    return raw.cpu(), cen.cpu(), int(keep.sum())


def _matched_sums(ha: list, hb: list, ma: torch.Tensor, mb: torch.Tensor, means: list) -> tuple:
    """Per layer, the sum over pairs of the mean cosine of matched tokens: one maximum-weight matching per pair, on
    the cosine similarity averaged over the blocks' outputs (layer 0, the embeddings, left out), for every layer."""
    layers = len(ha)
    raw, cen, pairs = torch.zeros(layers, dtype=torch.float64), torch.zeros(layers, dtype=torch.float64), 0
    for i in range(ma.shape[0]):
        ka, kb = ma[i].bool(), mb[i].bool()
        if not ka.any() or not kb.any():
            continue
        sims = [_cosine_matrix(x[i][ka], y[i][kb]) for x, y in zip(ha, hb, strict=True)]
        averaged = torch.stack(sims[1:] if layers > 1 else sims).mean(dim=0)
        rows, cols = (torch.as_tensor(v) for v in max_weight_matching(averaged.cpu().numpy()))
        for layer, (x, y) in enumerate(zip(ha, hb, strict=True)):
            raw[layer] += sims[layer][rows, cols].mean().cpu()
            xa, yb = x[i][ka] - means[0][layer], y[i][kb] - means[1][layer]
            cen[layer] += F.cosine_similarity(xa[rows], yb[cols], dim=-1).mean().cpu()
        pairs += 1
    return raw, cen, pairs


def _cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.normalize(a.double(), dim=-1) @ F.normalize(b.double(), dim=-1).T


# ---------------------------------------------------------------------- gradients
def _pair_gradient(model: Any, params: list, ids: torch.Tensor, mask: torch.Tensor | None) -> list:
    """Gradient of the mean token loss of one sequence (1, T) (padded targets left out)."""
    logits = model(input_ids=ids, attention_mask=mask).logits
    nll = F.cross_entropy(logits[0, :-1].float(), ids[0, 1:], reduction="none")
    weights = mask[0, 1:].to(nll.dtype) if mask is not None else torch.ones_like(nll)
    loss = (nll * weights).sum() / weights.sum().clamp(min=1)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]


def tensor_kind(name: str) -> str:
    """A block tensor's name without its layer (``attn.c_attn.k.bias`` for ``transformer.h.3.attn.c_attn.k.bias``):
    the row of the paper's gradient heatmap it belongs to."""
    m = _LAYER.search(name)
    return name[m.end() :] if m else name


def _group(name: str) -> tuple[str, int | None]:
    m = _LAYER.search(name)
    if m:
        return "block", int(m.group(1))
    if any(part in name for part in _EMBEDDING_NAMES):
        return "embedding", None
    return "other", None


def _tensors(model: Any, named: list, grads: list, split_qkv: bool) -> list[tuple[str, torch.Tensor]]:
    """(name, flat gradient) per parameter tensor; GPT-2's fused ``c_attn`` split into Q, K and V on request."""
    out = []
    fused = split_qkv and getattr(model.config, "model_type", None) == "gpt2"
    for (name, _), g in zip(named, grads, strict=True):
        if fused and name.endswith(("attn.c_attn.weight", "attn.c_attn.bias")) and g.shape[-1] % 3 == 0:
            stem, kind = name.rsplit(".", 1)
            for part, chunk in zip("qkv", g.chunk(3, dim=-1), strict=True):
                out.append((f"{stem}.{part}.{kind}", chunk.flatten()))
        else:
            out.append((name, g.flatten()))
    return out


UNDEFINED_GRADIENT_RTOL = 1.0
"""When a parameter tensor's gradient is *undefined*, in machine epsilons: in one pass (one sequence, one language)
its norm is below this many epsilons of the gradient's dtype (1.2e-7 for float32) times the largest tensor-gradient
norm of that pass. A gradient that vanishes by construction (GPT-2's key bias once Q, K, V are split) is then
rounding: measured at 1e-11 to 2e-10 of the largest norm in float32 (GPT-2 from 2 × 32 to 12 × 768, random and
trained), while the smallest real one, the query bias at initialisation, sits at 4e-5 or above. Relative to the pass,
so the loss scale does not matter; in epsilons, so a model run in half precision is judged by its own rounding."""


GRADIENT_MEANS = ("gradient_cosine_mean", "gradient_cosine_mean_all_tensors", "gradient_cosine_summed_mean")
"""The scalar gradient cosines `gradient_alignment` gives: over the block tensors whose gradient is defined (the
headline), over every block tensor, and the coarser summed-gradient estimator (over the defined ones)."""


def _undefined(tensors: list[tuple[str, torch.Tensor]]) -> set[str]:
    """The tensors of one pass whose gradient is undefined (`UNDEFINED_GRADIENT_RTOL`)."""
    norms = {name: float(g.double().norm()) for name, g in tensors}
    largest = max(norms.values(), default=0.0)
    eps = {name: torch.finfo(g.dtype).eps for name, g in tensors}
    return {name for name, norm in norms.items() if norm < UNDEFINED_GRADIENT_RTOL * eps[name] * largest}


def gradient_alignment(
    model: Any,
    ids_a: torch.Tensor,
    ids_b: torch.Tensor,
    mask_a: torch.Tensor | None = None,
    mask_b: torch.Tensor | None = None,
    split_qkv: bool = True,
) -> dict[str, Any]:
    """The paper's gradient cosine between parallel sequences ``ids_a`` / ``ids_b`` (n, T) in two languages.

    For each pair i: the gradients of the mean token loss of ``ids_a[i]`` and of ``ids_b[i]``, their cosine per
    parameter tensor; then the mean over pairs per tensor, and the mean over the transformer blocks' tensors whose
    gradient is defined (``gradient_cosine_mean``) and per layer. A tensor whose gradient is undefined
    (`UNDEFINED_GRADIENT_RTOL`) in either language of any pair is left out of these means and listed in
    ``gradient_undefined_tensors``; ``gradient_cosine_mean_all_tensors`` is the mean over every block tensor.
    Embedding and output matrices (whose clone rows differ by construction) and other tensors are reported apart.
    ``split_qkv`` treats GPT-2's fused ``c_attn`` as separate Q, K and V tensors, as the paper's model has them.
    ``gradient_cosine_summed_mean`` is an earlier, coarser estimator kept for comparison: the cosine of the
    gradients summed over all pairs, mean over the same defined tensors."""
    if len(ids_a) != len(ids_b) or len(ids_a) == 0:
        raise ValueError(
            f"gradient alignment needs the same number (> 0) of sequences, got {len(ids_a)}, {len(ids_b)}"
        )
    device = next(model.parameters()).device
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    cos_sum: dict[str, float] = {}
    undefined: set[str] = set()
    sums: list | None = None
    was_training = model.training
    model.eval()
    try:
        for i in range(len(ids_a)):
            pair = []
            for ids, mask in ((ids_a, mask_a), (ids_b, mask_b)):
                m = mask[i : i + 1].to(device) if mask is not None else None
                pair.append(_pair_gradient(model, params, ids[i : i + 1].to(device), m))
            ta, tb = (_tensors(model, named, g, split_qkv) for g in pair)
            undefined |= _undefined(ta) | _undefined(tb)
            for (name, a), (_, b) in zip(ta, tb, strict=True):
                cos = float(F.cosine_similarity(a.double(), b.double(), dim=0))
                cos_sum[name] = cos_sum.get(name, 0.0) + cos
            summed = [(a, b) for (_, a), (_, b) in zip(ta, tb, strict=True)]
            sums = summed if sums is None else [(x + a, y + b) for (x, y), (a, b) in zip(sums, summed, strict=True)]
    finally:
        model.train(was_training)
    names = list(cos_sum)
    per_tensor, embeddings, other, layers = {}, {}, {}, {}
    summed_block, excluded = [], []
    for name, (a, b) in zip(names, sums, strict=True):
        value = cos_sum[name] / len(ids_a)
        kind, layer = _group(name)
        if kind == "block":
            per_tensor[name] = value
            if name in undefined:
                excluded.append(name)
                continue
            layers.setdefault(layer, []).append(value)
            summed_block.append(float(F.cosine_similarity(a.double(), b.double(), dim=0)))
        elif kind == "embedding":
            embeddings[name] = value
        else:
            other[name] = value
    if excluded:
        logger.debug("gradient cosine: %d block tensors without a gradient left out: %s", len(excluded), excluded)
    nan = float("nan")
    defined = [v for k, v in per_tensor.items() if k not in undefined]
    indices = sorted({_group(name)[1] for name in per_tensor})
    return {
        "gradient_cosine_mean": float(np.mean(defined)) if defined else nan,
        "gradient_cosine_mean_all_tensors": float(np.mean(list(per_tensor.values()))) if per_tensor else nan,
        "gradient_cosine_per_layer": [float(np.mean(layers[k])) if k in layers else nan for k in indices],
        "gradient_cosine_per_tensor": per_tensor,
        "gradient_undefined_tensors": sorted(excluded, key=lambda n: (_group(n)[1], n)),
        "gradient_undefined_count": len(excluded),
        "gradient_tensors_in_mean": len(defined),
        "gradient_cosine_embeddings": embeddings,
        "gradient_cosine_other": other,
        "gradient_cosine_summed_mean": float(np.mean(summed_block)) if summed_block else nan,
        "gradient_pairs": len(ids_a),
        "gradient_qkv_split": bool(split_qkv and getattr(model.config, "model_type", None) == "gpt2"),
    }


# ---------------------------------------------------------------------- embeddings
FREQUENCY_BINS = (0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, float("inf"))


@torch.no_grad()
def embedding_alignment(
    model: Any,
    tokenizer: ClonedTokenizer,
    language_a: int,
    language_b: int,
    frequencies: Sequence[int] | np.ndarray | None = None,
    baseline_pairs: int = 20_000,
    seed: int = 0,
) -> dict:
    """Cosine between each cloned token's embedding in language a and in language b (input and output
    embeddings), overall, by frequency bin (``frequencies``: counts per base id), and for random non-clone pairs."""
    cloned = torch.as_tensor(tokenizer.cloned_ids)
    ia = torch.as_tensor(tokenizer.to_language(cloned.numpy(), language_a))
    ib = torch.as_tensor(tokenizer.to_language(cloned.numpy(), language_b))
    rng = np.random.default_rng(seed)
    other = torch.as_tensor(rng.permutation(len(cloned))[: min(baseline_pairs, len(cloned))])
    shifted = torch.roll(other, 1)
    out = {}
    tables = {"input": model.get_input_embeddings().weight}
    output = model.get_output_embeddings()
    if output is not None and output.weight.data_ptr() != tables["input"].data_ptr():
        tables["output"] = output.weight
    for name, table in tables.items():
        w = table.detach().double().cpu()
        cos = F.cosine_similarity(w[ia], w[ib], dim=-1)
        entry = {
            "overall": float(cos.mean()),
            "all_pairs_baseline": float(F.cosine_similarity(w[ia[other]], w[ib[shifted]], dim=-1).mean()),
        }
        if frequencies is not None:
            freq = np.zeros(tokenizer.base_vocab_size)
            given = np.asarray(frequencies, dtype=np.float64)[: tokenizer.base_vocab_size]
            freq[: given.size] = given
            counts = freq[cloned.numpy()]
            bins = []
            for lo, hi in itertools.pairwise(FREQUENCY_BINS):
                sel = (counts >= lo) & (counts < hi)
                if sel.any():
                    bins.append(
                        {
                            "min_count": lo,
                            "max_count": None if hi == float("inf") else hi,
                            "tokens": int(sel.sum()),
                            "cosine": float(cos[torch.as_tensor(sel)].mean()),
                        }
                    )
            entry["by_frequency"] = bins
        out[name] = entry
    if "output" not in out:
        out["output"] = {"tied": True}
    return out


# ---------------------------------------------------------------------- everything for a pair
def alignment_report(
    model: Any,
    tokenizer: ClonedTokenizer,
    base_blocks: torch.Tensor,
    pairs: Sequence[tuple[int, int]] | None = None,
    batch_size: int = 32,
    gradient_blocks: int | None = 32,
    frequencies: Sequence[int] | np.ndarray | None = None,
    include_embeddings: bool = True,
) -> dict[str, dict[str, Any]]:
    """All measures for each language pair (default: L1 vs every other language) on parallel blocks.

    ``base_blocks`` (n, T) are ids in any language; each pair sees them moved into its two languages.
    ``gradient_blocks`` caps the parallel pairs used for gradients (None: all, 0: skip).
    """
    n = tokenizer.num_languages
    pairs = list(pairs) if pairs is not None else [(1, k) for k in range(2, n + 1)]
    base = torch.as_tensor(tokenizer.to_base(torch.as_tensor(base_blocks)))
    report: dict[str, dict[str, Any]] = {}
    for a, b in pairs:
        ids_a, ids_b = tokenizer.to_language(base, a), tokenizer.to_language(base, b)
        entry: dict[str, Any] = {"blocks": len(base)}
        entry.update(hidden_alignment(model, ids_a, ids_b, batch_size=batch_size))
        if gradient_blocks != 0:
            k = len(base) if gradient_blocks is None else min(gradient_blocks, len(base))
            entry.update(gradient_alignment(model, ids_a[:k], ids_b[:k]))
        if include_embeddings:
            entry["embedding_cosine"] = embedding_alignment(model, tokenizer, a, b, frequencies=frequencies)
        report[f"L{a}-L{b}"] = entry
    return report


def summarize(report: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Flat scalars for logs: mean hidden cosine (raw, centred) and retrieval@1 over the blocks' outputs, and the
    mean gradient cosine over the blocks' tensors whose gradient is defined (the headline)."""
    flat = {}
    for pair, entry in report.items():
        key = pair.replace("-", "_")
        flat[f"{key}_hidden_cosine"] = block_mean(entry["hidden_cosine"])
        flat[f"{key}_hidden_cosine_centred"] = block_mean(entry["hidden_cosine_centred"])
        flat[f"{key}_retrieval_at_1"] = block_mean(entry["retrieval_at_1"])
        if "gradient_cosine_mean" in entry:
            flat[f"{key}_gradient_cosine"] = float(entry["gradient_cosine_mean"])
    return flat
