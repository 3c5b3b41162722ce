"""Training on several languages: language schedules, the sampler (the language of every sample a pure
function of seed, index and schedule), the collator, the loss, model presets and recipes, the run folder's files,
`ImbalanceTrainingArguments` and `ImbalanceTrainer`."""
