"""Cards for the Hub, rendered from the templates in ``model_cards/`` with `huggingface_hub`.

* Model cards of runs (``model_card.md``): one `EvalResult` per language and split, plus the alignment measures, so
  they show on the Hub page (Trainer's own card cannot read per-language results).
* Dataset cards of cloned corpora (``dataset_card.md``): YAML ``configs:`` that let plain
  ``load_dataset(folder_or_repo, config)`` load every split, and ``dataset_info`` (features, rows per split).

Both carry ``license``, ``tags`` (`CARD_TAGS` plus their kind) and what they were made from (``datasets`` on the
model card, ``source_datasets`` on the dataset card) when that is a Hub dataset.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..common import (
    CARD_TAGS,
    CITATION,
    EMBEDDED,
    EVAL_LANGUAGE_LOSS,
    CorpusFiles,
    RunFiles,
    block_mean,
    recorded_held_out,
)
from ..model_cards import read_template

LICENSE = "apache-2.0"
"""The license of what hf_clonelang makes itself: models, and corpora of its embedded stories."""


def _on_hub(source: str) -> bool:
    """Whether a data source names a Hub dataset (``owner/name``), not a local folder or file."""
    return "/" in source and not os.path.isabs(source) and not Path(source).exists()


_DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ".gz")
"""Suffixes of local data files: a source with one is a file that is not there any more, not a Hub dataset."""


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _result(
    task: str,
    dataset: str,
    name: str,
    split: str,
    metric: str,
    label: str,
    value: float,
    task_type: str = "text-generation",
    config: str | None = None,
) -> Any:
    from huggingface_hub import EvalResult

    return EvalResult(
        task_type=task_type,
        dataset_config=config,
        task_name=task,
        dataset_type=dataset,
        dataset_name=name,
        dataset_split=split,
        metric_type=metric,
        metric_name=label,
        metric_value=round(float(value), 4),
    )


def _training_data(data: dict[str, Any], run: Path | None = None) -> tuple[str, str, bool]:
    """What a run trained on, from its data settings (``run_info.json`` ``data``, local paths relative to the run
    folder ``run``): an id for the card's results (``dataset_type``), a line for the card, and whether the id is a
    Hub dataset. A built corpus comes first, then real languages' texts, then local files (named by file, never
    called embedded), then a base dataset; else the embedded stories."""
    corpus = data.get("cloned_corpus")
    if corpus:  # the corpus config is `corpus_config_name`, in older run folders `cloned_corpus_config`
        config = data.get("corpus_config_name") or data.get("cloned_corpus_config")
        return _named_data(corpus, config, run)
    if data.get("language"):
        texts = [spec.split("=", 1) for spec in data["language"]]
        shown = ", ".join(f"{name}: `{Path(text).name if _is_local(text, run) else text}`" for name, text in texts)
        return "real-languages", f"real languages, a text each ({shown})", False
    files = [Path(f).name for f in data.get("train_files") or []]
    if files:
        shown = ", ".join(f"`{f}`" for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        return "local-files", f"local text files: {shown}", False
    source = data.get("dataset_name")
    if source and source != EMBEDDED:
        return _named_data(source, data.get("dataset_config_name"), run)
    stories = data.get("max_documents")
    return EMBEDDED, "hf_clonelang's embedded stories" + (f" ({stories:,} documents)" if stories else ""), False


def _is_local(source: str, run: Path | None) -> bool:
    """Whether a recorded source is a local path (as recorded: relative to the run folder, or absolute)."""
    return Path(source).exists() or (run is not None and (run / source).exists())


def _named_data(source: str, config: str | None, run: Path | None = None) -> tuple[str, str, bool]:
    on_hub = _on_hub(source) and not _is_local(source, run)
    line = f"[{source}](https://huggingface.co/datasets/{source})" if on_hub else f"`{source}`"
    return source, line + (f", config `{config}`" if config else ""), on_hub


def _model_description(info: dict[str, Any]) -> str:
    preset = info.get("model_preset")
    text = f"GPT-2, preset `{preset}`" if preset else "GPT-2 from a given checkpoint"
    parts = []
    if info.get("input_embedding_scale"):
        scale = info["input_embedding_scale"]
        parts.append(f"input embedding × {scale:.4g} = √h, as in the paper's GPT (folded into the weights)")
    if "tie_word_embeddings" in info:
        parts.append("tied embeddings" if info["tie_word_embeddings"] else "untied embeddings")
    return text + (f"; {'; '.join(parts)}" if parts else "")


def _teff_text(teff: dict[str, Any]) -> str:
    return _fmt(teff.get("teff"), 2) + ("*" if teff.get("extrapolated") else "")


def _efficiency_fit(fits: dict[str, Any]) -> str:
    """The power law(s) TEff was computed with, each with the fit that gave it and its diagnostics (its
    ``describe()``): one for clones, one per language for real languages."""
    if "power-law" in fits:
        return fits["power-law"]
    per_language = [f"{lang}: {fit['power-law']}" for lang, fit in fits.items() if "power-law" in fit]
    return "; ".join(per_language) or "monolingual reference runs"


_BLOCK_PREFIX = re.compile(r"^.*?\.(?:h|layers|layer|blocks)\.\d+\.")
"""The layer part of a block tensor's name (``transformer.h.3.``), as the alignment measures group tensors."""


def _gradient_means(entry: dict[str, Any]) -> tuple[Any, Any]:
    """The gradient cosine over the tensors whose gradient is defined and over all tensors. A file written before
    the two were told apart (no ``gradient_undefined_tensors``) holds the all-tensor mean as
    ``gradient_cosine_mean``."""
    if "gradient_undefined_tensors" in entry:
        return entry.get("gradient_cosine_mean"), entry.get("gradient_cosine_mean_all_tensors")
    return None, entry.get("gradient_cosine_mean")


def render_model_card(run_dir: str | Path, repo_id: str | None = None, probe: dict[str, Any] | None = None) -> str:
    """The README.md text of a run folder, from ``run_info.json``, ``all_results.json``, ``trainer_state.json``
    and, when present, ``alignment.json``, ``efficiency.json`` (TEff, written by ``hf-clonelang reproduce``) and
    ``probe.json`` (``hf-clonelang probe``; or the ``probe`` given)."""
    from huggingface_hub import ModelCard, ModelCardData

    run = Path(run_dir)
    info = _read_json(run / RunFiles.RUN_INFO)
    results = _read_json(run / RunFiles.ALL_RESULTS)
    state = _read_json(run / RunFiles.TRAINER_STATE)
    alignment = _read_json(run / RunFiles.ALIGNMENT_EVAL) or _read_json(run / RunFiles.ALIGNMENT)  # larger sample
    efficiency = _read_json(run / RunFiles.EFFICIENCY)
    probe = probe if probe is not None else _read_json(run / RunFiles.PROBE)
    name = repo_id.split("/")[-1] if repo_id else run.resolve().name
    langs = sorted({m.group(1) for k in results if (m := EVAL_LANGUAGE_LOSS.match(k))}, key=lambda s: int(s[1:]))
    data = info.get("data", {})
    evaluation = info.get("evaluation", {})  # how each perplexity was measured (runs before it: every position)
    dataset, data_line, on_hub = _training_data(data, run)
    rows, eval_results = [], []
    for split, prefix in (("validation", "eval"), ("test", "test")):
        for lang in langs:
            loss, ppl = results.get(f"{prefix}_{lang}_loss"), results.get(f"{prefix}_{lang}_ppl")
            if loss is None:
                continue
            teff = efficiency.get(lang, {}) if split == "validation" else {}
            power, interp = teff.get("power-law", {}), teff.get("loglog-interpolation", {})
            rows.append(
                {
                    "language": lang,
                    "split": split,
                    "loss": loss,
                    "ppl": ppl,
                    "teff": _teff_text(power),
                    "teff_fit": power.get("fit") or "–",
                    "teff_interpolated": _teff_text(interp),
                    "mlte": f"{power['mlte']:,.0f}" if power.get("mlte") else "–",
                }
            )
            for metric, value in (("loss", loss), ("perplexity", ppl)):
                eval_results.append(
                    _result(
                        f"Language modeling ({lang})",
                        dataset,
                        f"held-out blocks in {lang}",
                        f"{split}_{lang}",
                        metric,
                        f"{lang} {metric} ({split})",
                        value,
                    )
                )
    align_rows, undefined = [], set()
    for pair, entry in alignment.items():
        defined_mean, all_mean = _gradient_means(entry)
        undefined |= {_BLOCK_PREFIX.sub("", name) for name in entry.get("gradient_undefined_tensors", [])}
        row = {
            "pair": pair,
            "hidden": _fmt(block_mean(entry["hidden_cosine"])),
            "centred": _fmt(block_mean(entry["hidden_cosine_centred"])),
            "retrieval": _fmt(block_mean(entry["retrieval_at_1"])),
            "cka": _fmt(block_mean(entry["cka"])),
            "gradient": _fmt(defined_mean),
            "gradient_all": _fmt(all_mean),
            "embedding": _fmt(entry.get("embedding_cosine", {}).get("input", {}).get("overall")),
        }
        align_rows.append(row)
        for metric, key in (
            ("hidden_cosine", "hidden"),
            ("hidden_cosine_centred", "centred"),
            ("retrieval_at_1", "retrieval"),
            ("gradient_cosine", "gradient"),
            ("gradient_cosine_all_tensors", "gradient_all"),
        ):
            if row[key] != "–":
                eval_results.append(
                    _result(
                        f"Cross-lingual alignment ({pair})",
                        dataset,
                        f"parallel held-out blocks {pair}",
                        "validation",
                        metric,
                        f"{pair} {metric.replace('_', ' ')}",
                        float(row[key]),
                    )
                )
    probe_rows, probe_results = _probe_entries(probe)
    eval_results += probe_results
    card_data = ModelCardData(
        license=LICENSE,
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=[*CARD_TAGS, "gpt2"],
        datasets=[dataset] if on_hub else None,
        model_name=name,
        eval_results=eval_results or None,
    )
    tokens = {k.removeprefix("train_tokens_"): int(v) for k, v in results.items() if k.startswith("train_tokens_L")}
    training = {k.replace("_", " "): v for k, v in info.get("training", {}).items()}
    card = ModelCard.from_template(
        card_data,
        template_str=read_template("model_card.md"),
        model_name=name,
        num_languages=info.get("num_languages", len(langs)),
        vocab_size=info.get("tokenizer", {}).get("vocab_size", "?"),
        schedule=info.get("language_schedule", "?"),
        shares=", ".join(f"L{i} {s:.1%}" for i, s in enumerate(info.get("expected_shares", []), 1)),
        sampling=info.get("sampling", "?"),
        data_mode=info.get("data_mode", "?"),
        clone_fraction=f"{info.get('tokenizer', {}).get('clone_fraction', 1):.4g}",
        real_languages=info.get("tokenizer", {}).get("languages"),
        vocab_mode=info.get("tokenizer", {}).get("vocab_mode"),
        shared=info.get("tokenizer", {}).get("shared_ids_description", "see cloned_tokenizer.json"),
        data_description=data_line,
        model_description=_model_description(info),
        num_parameters=f"{info.get('num_parameters', 0):,}",
        steps=state.get("global_step", "?"),
        global_batch=info.get("samples_per_step", "?"),
        block_size=info.get("block_size", "?"),
        training=training,
        has_schedule_plot=(run / RunFiles.SCHEDULE_PLOT).is_file(),
        has_loss_plot=(run / RunFiles.EVAL_LOSS_PLOT).is_file(),
        tokens_seen=tokens,
        results=rows,
        efficiency=bool(efficiency),
        efficiency_fit=_efficiency_fit(efficiency.get("fits", {})),
        alignment=align_rows,
        undefined_tensors=", ".join(f"`{name}`" for name in sorted(undefined)),
        alignment_blocks=next(iter(alignment.values()), {}).get("blocks", "?"),
        alignment_pairs=next(iter(alignment.values()), {}).get("pairs"),
        pairs_file=next(iter(alignment.values()), {}).get("pairs_file"),
        pair_packing=next(iter(alignment.values()), {}).get("packing", "sentences"),
        held_out_blocks=recorded_held_out(data) == "random_blocks",
        validation_protocol=evaluation.get("eval_L{k}_ppl", "every position of the validation blocks"),
        test_protocol=evaluation.get("test_L{k}_ppl", "every position of the test blocks"),
        repo_or_path=repo_id or str(run),
        probe={"rows": probe_rows, **_probe_description(probe)} if probe_rows else None,
        citation=CITATION,
    )
    return str(card)


def _probe_entries(probe: dict[str, Any]) -> tuple[list[dict[str, str]], list[Any]]:
    """The card's rows and `EvalResult`s (task ``text-classification``, one per task and language) of a probe."""
    rows, results = [], []
    for task, entry in probe.get("tasks", {}).items():
        for lang, scores in entry.get("languages", {}).items():
            source, _, config = str(scores.get("source", entry.get("dataset", task))).partition(":")
            on_hub = _on_hub(source) and Path(source).suffix not in _DATA_SUFFIXES
            shot = " (zero-shot)" if scores.get("zero_shot") else ""
            rows.append(
                {
                    "task": task,
                    "language": lang + shot,
                    "accuracy": _fmt(scores.get("accuracy")),
                    "ceiling": _fmt(scores.get("ceiling")),
                    "random_init": _fmt(scores.get("random_init")),
                    "majority": _fmt(scores.get("majority")),
                    "examples": scores.get("examples", "?"),
                }
            )
            results.append(
                _result(
                    f"Probe ({task}, trained in {probe.get('train_language', 'L1')})",
                    source if on_hub else task,
                    task,
                    f"{entry.get('eval_split', 'validation')} in {lang}",
                    "accuracy",
                    f"{lang} accuracy{shot}",
                    scores["accuracy"],
                    task_type="text-classification",
                    config=(config or None) if on_hub else None,
                )
            )
    return rows, results


def _probe_description(probe: dict[str, Any]) -> dict[str, str]:
    recipe = probe.get("recipe", {})
    what = "the language model frozen, a linear head" if recipe.get("finetune") == "head" else "fully fine-tuned"
    paper = "the paper's recipe" if recipe.get("paper_recipe") else "a variant of the paper's recipe"
    return {
        "train_language": probe.get("train_language", "L1"),
        "how": f"{what}, {recipe.get('pooling', 'final-position')} pooling: {paper}",
    }


def write_model_card(run_dir: str | Path, repo_id: str | None = None) -> Path:
    """Write the model card (``README.md``) into a run folder (aside, then renamed: never half-written)."""
    path = Path(run_dir) / RunFiles.CARD
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_model_card(run_dir, repo_id))
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------- dataset cards of cloned corpora
def read_infos(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """``info.json`` of every config in a corpus folder, oldest first (the order of the card)."""
    paths = Path(folder).glob(f"{CorpusFiles.DATA_DIR}/*/{CorpusFiles.INFO}")
    return order_infos([json.loads(p.read_text()) for p in paths])


def order_infos(infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Configs oldest first: the first one built is the corpus's default config."""
    return sorted(infos, key=lambda i: (i.get("created", 0), i["config"]["name"]))


def render_dataset_card(infos: list[dict[str, Any]], location: str, is_repo: bool = False) -> str:
    """The dataset card (README.md text) of a corpus holding ``infos``, in that order (the first is the default).
    ``location`` is the folder or repo id the card tells readers to load from."""
    from huggingface_hub import DatasetCard, DatasetCardData

    if not infos:
        raise ValueError("a corpus card needs at least one config")
    configs = []
    for i, info in enumerate(infos):
        name = info["config"]["name"]
        entry: dict[str, Any] = {
            "config_name": name,
            "data_files": [
                {"split": split, "path": [f"{CorpusFiles.DATA_DIR}/{name}/{f}" for f in files]}
                for split, files in _ordered_splits(info["files"])
            ],
        }
        if i == 0:
            entry["default"] = True
        configs.append(entry)
    real = [_is_real(info) for info in infos]
    bases = [b["source"] for info in infos for b in info["config"].get("bases") or [info["config"]["base"]]]
    embedded = all(base == EMBEDDED for base in bases)
    on_hub = sorted({base for base in bases if _on_hub(base)})
    codes = sorted({n for info in infos for n in info["config"].get("languages", ()) if re.fullmatch("[a-z]{2,3}", n)})
    kind = (
        "real-language corpus" if all(real) else "cloned-language corpus" if not any(real) else "multilingual corpus"
    )
    data = DatasetCardData(
        pretty_name=kind.capitalize(),
        language=["en"] if embedded else codes or None,
        license=LICENSE if embedded else "unknown",  # a corpus of other text keeps that text's license
        task_categories=["text-generation"],
        source_datasets=on_hub or None,
        tags=[*CARD_TAGS, "multilingual"],
        configs=configs,
        dataset_info=_dataset_info(infos),
    )
    card = DatasetCard.from_template(
        data,
        template_str=read_template("dataset_card.md"),
        pretty_name=kind.capitalize(),
        kind_text=kind,
        has_cloned=not all(real),
        has_real=any(real),
        configs=[_real_card_config(info) if r else _card_config(info) for info, r in zip(infos, real, strict=True)],
        location=location,
        is_repo=is_repo,
        citation=CITATION,
    )
    return str(card)


def _dataset_info(infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card's ``dataset_info``: per config its features and rows per split, in the `datasets` convention (one
    entry per config, always a list), written by `datasets` itself so `load_dataset` reads it back."""
    import datasets
    from datasets.info import DatasetInfosDict

    per_config = {}
    for info in infos:
        splits = datasets.SplitDict()
        for split, size in _split_sizes(info).items():
            splits.add(
                datasets.SplitInfo(name=split, num_bytes=size.get("num_bytes", 0), num_examples=size["num_examples"])
            )
        features = info.get("features")
        per_config[info["config"]["name"]] = datasets.DatasetInfo(
            features=datasets.Features.from_dict(features) if features else None,
            splits=splits,
            dataset_size=sum(s.num_bytes for s in splits.values()) or None,
        )
    written: dict[str, Any] = {}
    DatasetInfosDict(per_config).to_dataset_card_data(written)
    entries = written["dataset_info"]
    if isinstance(entries, dict):  # `datasets` writes a single config as a mapping: keep the list form
        entries = [{"config_name": next(iter(per_config)), **entries}]
    order = list(per_config)
    entries = sorted(entries, key=lambda e: order.index(e["config_name"]))
    return [{k: v for k, v in entry.items() if v is not None} for entry in entries]


def _split_sizes(info: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Rows (and bytes, where the build recorded them) per split, in card order; corpora built before
    ``info.json`` recorded ``splits`` count the blocks of their summary (one row per block)."""
    recorded = info.get("splits") or {
        split: {"num_examples": sum(row["blocks"] for row in rows.values())} for split, rows in info["summary"].items()
    }
    return dict(_ordered_splits(recorded))


def _ordered_splits(by_split: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(split, value)`` pairs in card order: train, then validation_L1.., then test_L1.."""

    def key(split: str) -> tuple[int, int]:
        kind, _, lang = split.partition("_L")
        return (
            ["train", "validation", "test"].index(kind) if kind in ("train", "validation", "test") else 3,
            int(lang) if lang.isdigit() else 0,
        )

    return [(s, by_split[s]) for s in sorted(by_split, key=key)]


def _shares_special_tokens(info: dict[str, Any]) -> bool:
    """Whether a config shares its special tokens by all languages: ``share_special_tokens``, or in files written
    before that name, ``clone_specials`` False."""
    cfg, tok = info["config"], info["tokenizer"]
    for record in (cfg, tok):
        if "share_special_tokens" in record:
            return bool(record["share_special_tokens"])
        if "clone_specials" in record:
            return not record["clone_specials"]
    return False


def _card_config(info: dict[str, Any]) -> dict[str, Any]:
    """The values the dataset card's text shows for one config."""
    cfg, tok = info["config"], info["tokenizer"]
    languages = [f"L{k}" for k in range(1, cfg["num_languages"] + 1)]
    return {
        "name": cfg["name"],
        "num_languages": cfg["num_languages"],
        "ratios_text": " / ".join(f"{k} {100 * r:g}%" for k, r in zip(languages, cfg["ratios"], strict=True)),
        "clone_fraction_text": f"{tok['clone_fraction']:.4g}",
        "num_anchors": tok["num_anchors"],
        "anchors": tok["anchors"],
        "shared": tok.get("shared_ids_description")
        or ("special tokens shared" if _shares_special_tokens(info) else "only padding"),
        "base": info.get("base_description") or cfg["base"]["source"],
        "tokenizer": cfg["tokenizer"] or "byte-level BPE trained on the base text",
        "base_vocab_size": tok["base_vocab_size"],
        "vocab_size": tok["vocab_size"],
        "language_ranges": tok["language_ranges"],
        "block_size": cfg["block_size"],
        "eval_blocks": cfg["eval_blocks"],
        "seed": cfg["seed"],
        "languages": languages,
        "summary": dict(_ordered_splits(info["summary"])),
    }


def _is_real(info: dict[str, Any]) -> bool:
    """Whether a config's ``info.json`` is of real languages (a base text per language)."""
    return "bases" in info["config"]


def _real_card_config(info: dict[str, Any]) -> dict[str, Any]:
    """The values the dataset card's text shows for one real-language config."""
    cfg, tok = info["config"], info["tokenizer"]
    languages = [f"L{k}" for k in range(1, cfg["num_languages"] + 1)]
    summary = info["summary"]
    if cfg["ratios"] is None:
        rows = "every block of every language (a pool: the training schedule picks the languages)"
    else:
        rows = " / ".join(f"{k} {100 * r:g}%" for k, r in zip(languages, cfg["ratios"], strict=True))
        if info.get("limited_by"):
            rows += f", as many rows as the text of {info['limited_by']} allows"
    return {
        "real": True,
        "name": cfg["name"],
        "names": cfg["languages"],
        "languages": languages,
        "ratios_text": rows,
        "vocab_mode": cfg["vocab_mode"],
        "vocab_size": tok["vocab_size"],
        "base_vocab_sizes": tok["base_vocab_sizes"],
        "num_shared": tok["num_shared"],
        "shared": tok["shared_ids_description"],
        "bases": info.get("base_description") or [b["source"] for b in cfg["bases"]],
        "tokenizers": [t or "byte-level BPE trained on its text" for t in cfg["tokenizers"]],
        "block_size": cfg["block_size"],
        "eval_blocks": cfg["eval_blocks"],
        "seed": cfg["seed"],
        "summary": dict(_ordered_splits(summary)),
    }


def write_dataset_card(folder: str | os.PathLike, location: str | os.PathLike | None = None) -> Path:
    """(Re)write the card (``README.md``) of a corpus folder from the ``info.json`` of all its configs, atomically.
    ``location`` is the path the card tells readers to load from (default: the folder)."""
    folder = Path(folder)
    text = render_dataset_card(read_infos(folder), location=str(location or folder))
    tmp = folder / f".{CorpusFiles.CARD}.tmp"
    tmp.write_text(text)
    path = folder / CorpusFiles.CARD
    os.replace(tmp, path)
    return path
