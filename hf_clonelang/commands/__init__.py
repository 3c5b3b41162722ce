"""The entry points: ``hf-clonelang`` (`cli`: build, reproduce, align, push, stories) and the training script
(`train`). Thin: they parse, call the layers below and print; no other module imports them."""
