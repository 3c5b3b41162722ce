"""``hf-clonelang build``: turn base text into N cloned languages with training ratios (or, with ``--language
en=TEXT --language fr=TEXT``, real languages in a disjoint or anchored joint vocabulary), as a corpus folder that
``load_dataset(folder, config)`` reads, and / or a config of a Hub dataset repo.

The corpus options are `CorpusArguments` (the training script's own); `BuildArguments` adds what only a build
needs: the languages and their ratios, where to write, and where to push.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from ..data.arguments import CorpusArguments
from ..errors import ConfigError
from ..parser import parse_dataclasses
from ..scratch import scratch_dir
from .checks import check_config_name, check_repo_id, check_writable_folder


@dataclass
class BuildArguments:
    """Languages, ratios and destinations of a build."""

    num_languages: int = field(default=2, metadata={"help": "Number of cloned languages N (numbered 1..N)."})
    ratios: str | None = field(
        default=None,
        metadata={"help": "Training share of each language, comma-separated, summing to 1 (default: uniform)."},
    )
    output: str | None = field(default=None, metadata={"help": "Corpus folder; other configs in it are kept."})
    overwrite: bool = field(default=False, metadata={"help": "Rebuild a config that already exists in --output."})
    num_proc: int | None = field(default=None, metadata={"help": "Processes for writing the splits."})
    push_to_hub: bool = field(default=False, metadata={"help": "Also push the config to --hub_dataset_id."})
    hub_dataset_id: str | None = field(default=None, metadata={"help": "Hub dataset repo, e.g. me/clones."})
    hub_private_repo: bool | None = field(default=None, metadata={"help": "Create the Hub repo as private."})
    hub_token: str | None = field(default=None, metadata={"help": "Hub token (default: the logged-in one)."})

    def __post_init__(self) -> None:
        if self.push_to_hub and not self.hub_dataset_id:
            raise ConfigError("--push_to_hub needs --hub_dataset_id REPO (the dataset repo to push the config to)")
        if not self.push_to_hub and self.hub_dataset_id:
            raise ConfigError(f"--hub_dataset_id {self.hub_dataset_id} is given without --push_to_hub")
        if self.output is None and not self.push_to_hub:
            raise ConfigError("no destination: give --output DIR, --push_to_hub --hub_dataset_id REPO, or both")
        if self.num_proc is not None and self.num_proc < 1:
            raise ConfigError(f"--num_proc {self.num_proc} is not allowed: give >= 1 processes (or leave it out)")

    def parsed_ratios(self) -> tuple[float, ...] | None:
        """``--ratios`` as numbers (the builder checks their count and sum)."""
        if self.ratios is None:
            return None
        try:
            return tuple(float(x) for x in self.ratios.split(","))
        except ValueError:
            raise ConfigError(f"--ratios={self.ratios!r} is not allowed: give comma-separated numbers") from None


def parse_build_args(argv: list[str]) -> tuple[CorpusArguments, BuildArguments]:
    """The build's arguments (flags and / or ``--config FILE``)."""
    return parse_dataclasses((CorpusArguments, BuildArguments), argv, prog="hf-clonelang build", description=__doc__)


def run_build(argv: list[str]) -> int:
    """Build (or, if this config is already built with these settings, only push) one corpus config."""
    from ..data.corpus_folder import built_config_info, save_cloned_corpus
    from ..hub.push import push_cloned_corpus

    corpus, build = parse_build_args(argv)
    if build.output is not None:  # checked before the build, which may take minutes
        check_writable_folder(build.output, "--output")
    if build.push_to_hub:
        check_repo_id(build.hub_dataset_id, "--hub_dataset_id")
    check_config_name(corpus.corpus_config_name)
    for name in ("cloned_corpus", "corpus_cache_dir"):  # training options with no meaning for a build
        if getattr(corpus, name) is not None:
            raise ConfigError(f"--{name} is not allowed in build: a build writes a new corpus into --output")
    num_languages = build.num_languages
    if corpus.language and num_languages == BuildArguments.num_languages:  # the default: as many as given
        num_languages = len(corpus.languages)
    config = corpus.to_config(num_languages, build.parsed_ratios())
    scratch = scratch_dir("clonelang-push-")  # a push-only build's corpus; a killed one's is removed next time
    try:
        folder = build.output or f"{scratch}/corpus"
        info = built_config_info(folder, config) if build.push_to_hub and not build.overwrite else None
        if info is not None:  # a push that failed is retried by running the same command again
            print(f"config {config.name} is already built in {folder} with these settings: pushing it")
        else:
            info = save_cloned_corpus(config, folder, overwrite=build.overwrite, num_proc=build.num_proc)
            print(format_summary(info, folder if build.output else None))
        if build.push_to_hub:
            url = push_cloned_corpus(
                folder, config.name, build.hub_dataset_id, token=build.hub_token, private=build.hub_private_repo
            )
            print(f"pushed {config.name} to {url}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def format_summary(info: dict[str, Any], folder: str | None) -> str:
    """Blocks per language and tokens per split, as a small table."""
    cfg = info["config"]
    langs = [f"L{k}" for k in range(1, cfg["num_languages"] + 1)]
    where = f" in {folder}" if folder else ""
    lines = [f"config {cfg['name']}{where}: {info['tokenizer']['vocab_size']} ids, blocks of {cfg['block_size']}"]
    if cfg.get("languages"):
        names = ", ".join(f"L{k} = {n}" for k, n in enumerate(cfg["languages"], 1))
        lines[0] += f"; {names}; {cfg['vocab_mode']} vocabulary ({info['tokenizer']['shared_ids_description']})"
    if info.get("limited_by"):
        lines.append(f"train rows at the ratios: as many as the text of {info['limited_by']} allows")
    header = ["split"] + [f"{k} blocks" for k in langs] + ["tokens"]
    rows = [header]
    for split, per_lang in info["summary"].items():
        tokens = sum(v["tokens"] for v in per_lang.values())
        rows.append([split] + [str(per_lang.get(k, {}).get("blocks", 0)) for k in langs] + [str(tokens)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells))
    return "\n".join(lines)
