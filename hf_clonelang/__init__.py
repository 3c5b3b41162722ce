"""hf_clonelang: cloned-language experiments on language imbalance (Schäfer et al., 2024) on the Hugging Face stack.

Public API: `ClonedTokenizer` (one base tokenizer, N languages in disjoint id ranges), `JointTokenizer` (real
languages, each its own tokenizer, in a disjoint or anchored joint vocabulary), `load_language_tokenizer` (whichever
a folder or repo holds), `BaseCorpus` (where base text comes from), `ClonedCorpusBuilder` / `ClonedCorpusConfig`
and `RealCorpusBuilder` / `RealCorpusConfig` (the `datasets` builders), `CorpusArguments` (the corpus options of
every command), `read_pairs` (translation pairs), `LanguageSchedule` (language probabilities over training),
`ImbalanceTrainer` / `ImbalanceTrainingArguments`, `AlignmentCallback` / `PairAlignmentCallback` (alignment at
every evaluation of any Trainer), the paper's alignment measures `hidden_alignment` / `gradient_alignment` /
`pair_alignment`, and the downstream probe `probe_model` / `ProbeRecipe` (these last imported lazily: they pull in
torch and the transformers Trainer). The layers, lowest
first: the core (`errors`, `common`, `scratch`, `parser`), `hub`, `tokenization`, `data`, `analysis`, `training`,
`reproduction`, `commands` (see docs/development.md).
"""

__version__ = "0.1.0"

from .data.arguments import CorpusArguments
from .data.base_text import BaseCorpus, embedded_dataset
from .data.builder import ClonedCorpusBuilder, ClonedCorpusConfig, default_config_name
from .data.pairs import read_pairs
from .data.real_builder import RealCorpusBuilder, RealCorpusConfig
from .data.tokenizers import train_byte_level_bpe
from .errors import ConfigError
from .tokenization.clone_layout import SHARED
from .tokenization.cloned_tokenizer import ClonedTokenizer
from .tokenization.joint_tokenizer import JointTokenizer
from .tokenization.language_tokenizer import LanguageTokenizer, load_language_tokenizer
from .training.schedules import LanguageSchedule

_LAZY = {
    "AlignmentCallback": "analysis.callback",
    "PairAlignmentCallback": "analysis.callback",
    "pair_alignment": "analysis.translation",
    "ImbalanceTrainer": "training.trainer",
    "ImbalanceTrainingArguments": "training.arguments",
    "hidden_alignment": "analysis.alignment",
    "probe_model": "analysis.probing.probe",
    "ProbeRecipe": "analysis.probing.recipe",
    "gradient_alignment": "analysis.alignment",
}


def __getattr__(name: str):  # PEP 562: the Trainer machinery loads on first use
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'hf_clonelang' has no attribute {name!r}")


__all__ = [
    "SHARED",
    "AlignmentCallback",
    "BaseCorpus",
    "ClonedCorpusBuilder",
    "ClonedCorpusConfig",
    "ClonedTokenizer",
    "ConfigError",
    "CorpusArguments",
    "ImbalanceTrainer",
    "ImbalanceTrainingArguments",
    "JointTokenizer",
    "LanguageSchedule",
    "LanguageTokenizer",
    "PairAlignmentCallback",
    "ProbeRecipe",
    "RealCorpusBuilder",
    "RealCorpusConfig",
    "default_config_name",
    "embedded_dataset",
    "gradient_alignment",
    "hidden_alignment",
    "load_language_tokenizer",
    "pair_alignment",
    "probe_model",
    "read_pairs",
    "train_byte_level_bpe",
]
