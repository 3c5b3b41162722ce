"""The paper's Figures 6 and 7 (``reproduce ... --embedding_similarity``): how alike a token's embedding in L1 and
its clone's in L2 are, against p(L2) and by how often the token occurred in training — and the paper's control, a
word2vec model trained on exactly the run's token stream, measured the same way.

The stream is the run's own: its training blocks in the order and languages its sampler gave them (a pure function
of the run's seed, schedule and step count, `training.sampling`), rebuilt from ``run_info.json`` and the grid's
corpus cache, one sentence per block. The word2vec settings are the paper's (gensim; window 5, 20 negative
samples, sample 1e-3, α 0.025 → 0.0001, 1 epoch, min_count 1, CBOW as gensim's default), the vector size the
model's width. Counts are the token's occurrences in that stream (both clones together); tokens never seen are
left out of the count bins, which are a quarter decade wide from 10⁰. The results are cached in the run folder
(``embeddings.json``).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..common import RunFiles

logger = logging.getLogger(__name__)

EMBEDDINGS_FILE = "embeddings.json"
WORD2VEC = {
    "window": 5,
    "negative": 20,
    "sample": 1e-3,
    "alpha": 0.025,
    "min_alpha": 0.0001,
    "epochs": 1,
    "min_count": 1,
}
"""The paper's word2vec settings (gensim), besides the vector size (the model's width)."""
BINS_PER_DECADE = 4
"""Count bins: a quarter decade wide, from 10⁰ (the paper's Figure 7)."""
BASELINE_PAIRS = 20_000


class TrainingStream:
    """The run's training blocks in its own order and languages (joint ids), re-iterable: word2vec reads it twice
    (vocabulary, then training). ``counts`` is every joint id's number of occurrences."""

    def __init__(self, run_dir: str | Path, corpus_cache_dir: str | None = None) -> None:
        from ..data.arguments import CorpusArguments
        from ..training.sampling import LanguageAssignment, ScheduledSampler
        from ..training.schedules import LanguageSchedule

        run = Path(run_dir)
        self.info = info = json.loads((run / RunFiles.RUN_INFO).read_text())
        state = json.loads((run / RunFiles.TRAINER_STATE).read_text())
        data = {**info.get("data", {}), "corpus_cache_dir": corpus_cache_dir}
        dsd, self.tokenizer = CorpusArguments.from_run_info(data, run_dir=run).load(info["num_languages"])
        blocks = dsd["train"]
        self.ids = np.asarray(blocks.with_format("numpy", columns=["input_ids"])[:]["input_ids"], dtype=np.int64)
        pool = info.get("data_mode") == "pool"
        rows = np.asarray(blocks["language"]) if pool else None
        sizes = np.bincount(rows, minlength=info["num_languages"] + 1)[1:] if pool else None
        schedule = LanguageSchedule.from_string(info["language_schedule"], info["num_languages"], sizes=sizes)
        total = int(state["global_step"]) * int(info["samples_per_step"])
        training = info.get("training", {})
        seed = training.get("data_seed", training.get("seed", 0))
        assignment = LanguageAssignment(schedule, total, seed=seed, mode=info.get("sampling", "exact"))
        self.sampler = ScheduledSampler(assignment, total, num_rows=len(self.ids), row_languages=rows)
        self.samples = total

    def __iter__(self) -> Iterator[np.ndarray]:
        for row, language, _ in self.sampler:
            yield self.tokenizer.to_language(self.ids[row], language)

    def counts(self) -> np.ndarray:
        """Occurrences of every joint id in the stream."""
        out = np.zeros(self.tokenizer.vocab_size, dtype=np.int64)
        for block in self:
            out += np.bincount(block, minlength=out.size)
        return out

    def sentences(self) -> Iterator[list[str]]:
        """The stream as word2vec's sentences: one per block, its ids as words."""

        class Sentences:
            def __iter__(inner) -> Iterator[list[str]]:
                for block in self:
                    yield [str(i) for i in block.tolist()]

        return Sentences()


def clone_similarity(
    table: np.ndarray, ids_a: np.ndarray, ids_b: np.ndarray, counts: np.ndarray, seed: int = 0
) -> dict[str, Any]:
    """Cosine between row ``ids_a[i]`` and row ``ids_b[i]`` of ``table`` (a token in L1 and its clone in L2): the
    mean over tokens seen in training, over all tokens, the all-pairs baseline (a token against another token's
    clone), and the mean by count bin (``counts[i]``: the token's occurrences, both clones; unseen tokens left
    out)."""
    a, b = table[ids_a].astype(np.float64), table[ids_b].astype(np.float64)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b /= np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    cos = (a * b).sum(axis=1)
    seen = counts > 0
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(cos))[: min(BASELINE_PAIRS, len(cos))]
    other = np.roll(pick, 1)
    bins = []
    if seen.any():
        top = math.ceil(np.log10(counts[seen].max()) * BINS_PER_DECADE) + 1
        edges = 10 ** (np.arange(top + 1) / BINS_PER_DECADE)
        for lo, hi in itertools.pairwise(edges):
            sel = seen & (counts >= lo) & (counts < hi)
            if sel.any():
                bins.append({"min_count": float(lo), "max_count": float(hi), "tokens": int(sel.sum()),
                             "cosine": float(cos[sel].mean())})  # fmt: skip
    return {
        "seen": float(cos[seen].mean()) if seen.any() else None,
        "overall": float(cos.mean()),
        "all_pairs_baseline": float((a[pick] * b[other]).sum(axis=1).mean()),
        "tokens_seen": int(seen.sum()),
        "by_count": bins,
    }


def word2vec_tables(stream: TrainingStream, size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A word2vec model trained on ``stream`` with the paper's settings: (input vectors, output vectors, trained)
    as tables over the joint ids (rows of ids it never saw are zero; ``trained`` marks the others)."""
    from gensim.models import Word2Vec

    model = Word2Vec(sentences=stream.sentences(), vector_size=size, seed=seed, workers=1, **WORD2VEC)
    vocab = stream.tokenizer.vocab_size
    inputs, outputs = np.zeros((vocab, size), np.float32), np.zeros((vocab, size), np.float32)
    trained = np.zeros(vocab, dtype=bool)
    for word, index in model.wv.key_to_index.items():
        i = int(word)
        inputs[i], outputs[i], trained[i] = model.wv.vectors[index], model.syn1neg[index], True
    return inputs, outputs, trained


def embedding_similarity(run_dir: str | Path, corpus_cache_dir: str | None = None) -> dict[str, Any]:
    """The run's clone similarity (input and output embeddings) and its word2vec control's, cached in the run
    folder; with the seconds each took."""
    from transformers import AutoModelForCausalLM

    run = Path(run_dir)
    cached = run / EMBEDDINGS_FILE
    if cached.is_file():
        return json.loads(cached.read_text())
    started = time.perf_counter()
    stream = TrainingStream(run, corpus_cache_dir)
    tok = stream.tokenizer
    counts = stream.counts()
    cloned = np.asarray(tok.cloned_ids)
    ids_a, ids_b = tok.to_language(cloned, 1), tok.to_language(cloned, 2)
    both = counts[ids_a] + counts[ids_b]
    model = AutoModelForCausalLM.from_pretrained(run)
    tables = {"input": model.get_input_embeddings().weight.detach().float().cpu().numpy()}
    output = model.get_output_embeddings()
    if output is not None and output.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
        tables["output"] = output.weight.detach().float().cpu().numpy()
    seed = stream.info.get("training", {}).get("seed", 0)
    result: dict[str, Any] = {
        "transformer": {name: clone_similarity(t, ids_a, ids_b, both, seed) for name, t in tables.items()},
        "stream": {"blocks": stream.samples, "tokens": int(counts.sum())},
    }
    measured = time.perf_counter()
    inputs, outputs, trained = word2vec_tables(stream, tables["input"].shape[1], seed)
    in_both = trained[ids_a] & trained[ids_b]  # word2vec has no vector for a token it never saw
    result["word2vec"] = {
        name: clone_similarity(t, ids_a[in_both], ids_b[in_both], both[in_both], seed)
        for name, t in (("input", inputs), ("output", outputs))
    }
    result["word2vec"]["settings"] = {**WORD2VEC, "vector_size": int(tables["input"].shape[1]), "workers": 1}
    result["seconds"] = {"stream_and_measures": round(measured - started, 1),
                         "word2vec": round(time.perf_counter() - measured, 1)}  # fmt: skip
    tmp = cached.with_name(f".{cached.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(cached)
    return result


def embedding_summary(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """A setting's clone similarity over its seeds: per model (transformer, word2vec) and table (input, output) the
    mean and sd of the seen-token mean and of the baseline, and the first seed's count bins (Figure 7)."""
    out: dict[str, Any] = {}
    for model in ("transformer", "word2vec"):
        out[model] = {}
        for table in ("input", "output"):
            found = [m[model][table] for m in measured if table in m.get(model, {})]
            if not found:
                continue
            entry = {}
            for key in ("seen", "all_pairs_baseline"):
                values = np.asarray([f[key] for f in found if f[key] is not None], dtype=np.float64)
                entry[key] = {
                    "mean": float(values.mean()) if values.size else None,
                    "std": float(values.std(ddof=1)) if values.size > 1 else None,
                    "n": int(values.size),
                }
            entry["by_count"] = found[0]["by_count"]
            out[model][table] = entry
    return out
