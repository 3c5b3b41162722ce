"""Corpora: base text (the embedded stories, `load_dataset` sources, local files), packing into blocks, the
`datasets` builders of cloned and real-language corpora, corpus folders and their cards, translation pairs, and
`CorpusArguments`, the corpus options of every command."""
