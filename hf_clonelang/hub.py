"""Model cards for runs: rendered from ``model_cards/model_card.md`` with `huggingface_hub`, with one
`EvalResult` per language so per-language results show on the Hub page (Trainer's own card cannot read them)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from .builder import CITATION

_EVAL = re.compile(r"^eval_(L\d+)_loss$")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def render_model_card(run_dir: str | Path, repo_id: str | None = None) -> str:
    """The README.md text of a run folder (reads ``run_info.json``, ``all_results.json``, ``trainer_state.json``)."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    run = Path(run_dir)
    info = _read_json(run / "run_info.json")
    results = _read_json(run / "all_results.json")
    state = _read_json(run / "trainer_state.json")
    name = repo_id.split("/")[-1] if repo_id else run.resolve().name
    langs = sorted({m.group(1) for k in results if (m := _EVAL.match(k))}, key=lambda s: int(s[1:]))
    rows = [{"language": k, "loss": results[f"eval_{k}_loss"], "ppl": results[f"eval_{k}_ppl"]} for k in langs]
    dataset = info.get("data", {}).get("cloned_corpus") or info.get("data", {}).get("dataset_name") or "embedded"
    eval_results = []
    for row in rows:
        for metric, value in (("loss", row["loss"]), ("perplexity", row["ppl"])):
            eval_results.append(
                EvalResult(
                    task_type="text-generation",
                    task_name=f"Language modeling ({row['language']})",
                    dataset_type=dataset,
                    dataset_name=f"held-out blocks in {row['language']}",
                    dataset_split=f"validation_{row['language']}",
                    metric_type=metric,
                    metric_name=f"{row['language']} {metric}",
                    metric_value=round(float(value), 4),
                )
            )
    data = ModelCardData(
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["hf-clonelang", "cloned-languages", "language-imbalance", "gpt2"],
        datasets=[dataset] if "/" in dataset and not Path(dataset).exists() else None,
        model_name=name,
        eval_results=eval_results or None,
    )
    tokens = {k.removeprefix("train_tokens_"): int(v) for k, v in results.items() if k.startswith("train_tokens_L")}
    preset = info.get("model_preset")
    template = resources.files("hf_clonelang.model_cards").joinpath("model_card.md").read_text()
    card = ModelCard.from_template(
        data,
        template_str=template,
        model_name=name,
        num_languages=info.get("num_languages", len(langs)),
        vocab_size=info.get("tokenizer", {}).get("vocab_size", "?"),
        schedule=info.get("language_schedule", "?"),
        shares=", ".join(f"L{i} {s:.1%}" for i, s in enumerate(info.get("expected_shares", []), 1)),
        sampling=info.get("sampling", "?"),
        data_mode=info.get("data_mode", "?"),
        clone_fraction=f"{info.get('tokenizer', {}).get('clone_fraction', 1):.4g}",
        model_description=f"GPT-2 preset `{preset}`" if preset else "GPT-2 from a given checkpoint",
        num_parameters=f"{info.get('num_parameters', 0):,}",
        steps=state.get("global_step", "?"),
        global_batch=info.get("samples_per_step", "?"),
        block_size=info.get("block_size", "?"),
        tokens_seen=tokens,
        results=rows,
        repo_or_path=repo_id or str(run),
        citation=CITATION,
    )
    return str(card)


def write_model_card(run_dir: str | Path, repo_id: str | None = None) -> Path:
    """Write ``README.md`` into a run folder."""
    path = Path(run_dir) / "README.md"
    path.write_text(render_model_card(run_dir, repo_id))
    return path
