"""Tiny, randomly initialised PyTorch and transformers models built locally (nothing is downloaded).

Importable in-process and, with the repository root on ``PYTHONPATH``, in MLflow subprocesses.
"""

from __future__ import annotations

from typing import Any

import torch

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "hello world good day", "bad weather today"]


class TinyNet(torch.nn.Module):
    """A two-layer network with a buffer, exportable and scriptable."""

    def __init__(self, n_in: int = 4, n_out: int = 3) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(n_in, 8)
        self.out = torch.nn.Linear(8, n_out)
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x))) * self.scale


def tiny_net(seed: int = 0) -> TinyNet:
    """A :class:`TinyNet` with weights fixed by ``seed``, in eval mode."""
    torch.manual_seed(seed)
    return TinyNet().eval()


def tokenizer() -> Any:
    """A word-level fast tokenizer trained on :data:`TEXTS`."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    raw = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    raw.train_from_iterator(TEXTS, trainers.WordLevelTrainer(special_tokens=specials))
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def bert_config(**extra: Any) -> Any:
    """A two-layer BERT configuration with a 128-word vocabulary."""
    import transformers

    return transformers.BertConfig(
        vocab_size=128,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        **extra,
    )


def classifier(seed: int = 0) -> Any:
    """A randomly initialised two-label BERT sequence classifier."""
    import transformers

    torch.manual_seed(seed)
    return transformers.BertForSequenceClassification(bert_config(num_labels=2)).eval()


def encoder(seed: int = 0) -> Any:
    """A randomly initialised BERT encoder (for feature extraction)."""
    import transformers

    torch.manual_seed(seed)
    return transformers.BertModel(bert_config()).eval()


def generator(seed: int = 0) -> Any:
    """A randomly initialised two-layer GPT-2 language model over the tokenizer's vocabulary."""
    import transformers

    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=128,
        n_positions=128,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=2,
        eos_token_id=3,
        pad_token_id=0,
    )
    return transformers.GPT2LMHeadModel(config).eval()


def pipeline(task: str, seed: int = 0) -> Any:
    """A pipeline of ``task`` (text-classification, feature-extraction or text-generation)."""
    import transformers

    build = {"text-classification": classifier, "feature-extraction": encoder, "text-generation": generator}
    make: Any = transformers.pipeline  # typed per literal task; the task here is a plain str
    return make(task, model=build[task](seed), tokenizer=tokenizer())
