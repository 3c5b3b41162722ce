"""hf_clonelang: cloned-language experiments on language imbalance (Schäfer et al., 2024) on the Hugging Face stack.

Public API: `ClonedTokenizer` (one base tokenizer, N languages in disjoint id ranges), `BaseCorpus` (where base
text comes from), `ClonedCorpusBuilder` / `ClonedCorpusConfig` (the `datasets` builder), and `save_cloned_corpus` /
`load_cloned_corpus` (a corpus folder or Hub repo with one config per language setting).
"""

__version__ = "0.1.0"

from .builder import ClonedCorpusBuilder, ClonedCorpusConfig, default_config_name
from .corpora import BaseCorpus, embedded_dataset
from .errors import ConfigError
from .tokenization import SHARED, ClonedTokenizer, train_byte_level_bpe

__all__ = [
    "SHARED",
    "BaseCorpus",
    "ClonedCorpusBuilder",
    "ClonedCorpusConfig",
    "ClonedTokenizer",
    "ConfigError",
    "default_config_name",
    "embedded_dataset",
    "train_byte_level_bpe",
]
