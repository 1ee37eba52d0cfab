"""PCA / t-SNE / UMAP of (N, H) embeddings to (N, 2), computed once per content and kept in a cache.

Large inputs: PCA uses every point; t-SNE and UMAP are fitted on a random sample of FIT_SAMPLE points and
the others are placed (UMAP: the fitted model's `transform`; t-SNE: among each point's nearest sampled
neighbours), so a 50,000-point map takes about as long as a 5,000-point one. `approach` says which.

Small inputs are handled: N < 3 gives zeros (N = 0, 1) or PCA (N = 2), t-SNE's perplexity is kept
below N, UMAP's n_neighbors below N (UMAP falls back to PCA when N < 4), and constant input gives zeros.
umap and sklearn.manifold are imported only when a projection needs them (importing umap takes seconds).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from trainer import i18n
from trainer.files.atomic import temp_beside
from trainer.i18n import tr

METHODS = ("pca", "tsne", "umap")
FIT_SAMPLE = 5000  # t-SNE and UMAP are fitted on at most this many points; the rest are placed

# One re-entrant lock for the cache AND the computation: UMAP (numba) code is not thread-safe, and two
# Streamlit sessions (each its own thread) may ask for the same or different projections at once.
# Holding the lock while computing also means the second asker of a projection finds it cached.
_LOCK = threading.RLock()
_CACHE: dict[str, np.ndarray] = {}
_CACHE_MAX = 64


def cache_key(embeddings: np.ndarray, method: str, seed: int, params: dict[str, Any]) -> str:
    """Content hash of the array (shape, dtype, bytes) plus method, seed and parameters."""
    h = hashlib.sha256()
    arr = np.ascontiguousarray(embeddings)
    h.update(str((arr.shape, arr.dtype.str)).encode())
    h.update(arr.tobytes())
    h.update(json.dumps([method, seed, params], sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def _pca(x: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    n_comp = min(2, x.shape[0], x.shape[1])
    out = np.zeros((x.shape[0], 2))
    out[:, :n_comp] = PCA(n_components=n_comp, random_state=seed).fit_transform(x)
    return out


def _tsne(x: np.ndarray, seed: int, perplexity: float, fit: np.ndarray) -> np.ndarray:
    """t-SNE of the rows `fit`; every other row placed among its nearest fitted rows (see `place`)."""
    from sklearn.manifold import TSNE

    sample = x[fit]
    perplexity = min(perplexity, max(1.0, (sample.shape[0] - 1) / 3))  # must be < N
    init = "pca" if x.shape[1] >= 2 else "random"
    fitted = TSNE(n_components=2, perplexity=perplexity, init=init, random_state=seed).fit_transform(sample)
    return place(x, fit, fitted)


def _umap(x: np.ndarray, seed: int, n_neighbors: int, min_dist: float, fit: np.ndarray) -> np.ndarray:
    """UMAP fitted on the rows `fit`; every other row placed by the fitted model's `transform`."""
    import umap

    sample = x[fit]
    n_neighbors = max(2, min(n_neighbors, sample.shape[0] - 1))  # must be < N
    init = "spectral" if sample.shape[0] > n_neighbors + 2 else "random"
    reducer = umap.UMAP(
        n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, init=init, n_jobs=1
    )
    out = np.zeros((x.shape[0], 2))
    out[fit] = reducer.fit_transform(sample)
    rest = np.setdiff1d(np.arange(x.shape[0]), fit)
    if len(rest):
        out[rest] = reducer.transform(x[rest])
    return out


def place(x: np.ndarray, fit: np.ndarray, fitted: np.ndarray, k: int = 10) -> np.ndarray:
    """Positions for all rows: the fitted ones as fitted; every other one at the distance-weighted mean
    of its k nearest fitted rows (in the original space): the initial placement openTSNE uses for new points."""
    from sklearn.neighbors import NearestNeighbors

    out = np.zeros((x.shape[0], 2))
    out[fit] = fitted
    rest = np.setdiff1d(np.arange(x.shape[0]), fit)
    if not len(rest):
        return out
    k = min(k, len(fit))
    distances, neighbours = NearestNeighbors(n_neighbors=k).fit(x[fit]).kneighbors(x[rest])
    weights = 1.0 / np.maximum(distances, 1e-9)
    out[rest] = (fitted[neighbours] * weights[..., None]).sum(1) / weights.sum(1, keepdims=True)
    return out


def fit_rows(n: int, seed: int, size: int = FIT_SAMPLE) -> np.ndarray:
    """The rows t-SNE and UMAP are fitted on: all of them up to `size`, else a seeded random sample."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def approach(method: str, n: int) -> str:
    """How a map of n points was made, in one sentence for the page (in the current language)."""
    if method == "pca" or n <= FIT_SAMPLE:
        name = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[method]
        return tr("A map of all {n} points, drawn with {method}.", method=name, n=i18n.number(n))
    if method == "umap":
        return tr(
            "UMAP fitted on a random sample of {sample} points; the other {rest} placed "
            "by the fitted model (UMAP's transform).",
            sample=i18n.number(FIT_SAMPLE),
            rest=i18n.number(n - FIT_SAMPLE),
        )
    return tr(
        "t-SNE of a random sample of {sample} points; each of the other {rest} placed "
        "among its 10 nearest sampled neighbours (weighted by closeness in the model's space).",
        sample=i18n.number(FIT_SAMPLE),
        rest=i18n.number(n - FIT_SAMPLE),
    )


def compute_projection(
    embeddings: np.ndarray, method: str = "pca", seed: int = 0, **params: Any
) -> np.ndarray:
    """(N, H) -> (N, 2) float32, uncached. Params: perplexity (t-SNE), n_neighbors, min_dist (UMAP)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D (N, H) array, got shape {x.shape}")
    n = x.shape[0]
    if n < 2 or x.shape[1] == 0 or np.ptp(x, axis=0).max() == 0:
        return np.zeros((n, 2), dtype=np.float32)
    fit = fit_rows(n, seed, int(params.get("fit_sample", FIT_SAMPLE)))
    if method == "pca" or n == 2 or (method == "umap" and n < 4):
        out = _pca(x, seed)
    elif method == "tsne":
        out = _tsne(x, seed, float(params.get("perplexity", 30.0)), fit)
    else:
        out = _umap(x, seed, int(params.get("n_neighbors", 15)), float(params.get("min_dist", 0.1)), fit)
    return np.nan_to_num(np.asarray(out, dtype=np.float32))


def cached_path(
    embeddings: np.ndarray, method: str, cache_dir: str | Path, seed: int = 0, **params: Any
) -> Path:
    """Where `project(..., cache_dir=cache_dir)` keeps this projection on disk."""
    return _file(cache_dir, method, cache_key(embeddings, method, seed, params))


def _file(cache_dir: str | Path, method: str, key: str) -> Path:
    return Path(cache_dir) / f"{method}-{key}.npy"


def project(
    embeddings: np.ndarray,
    method: str = "pca",
    seed: int = 0,
    cache_dir: str | Path | None = None,
    **params: Any,
) -> np.ndarray:
    """(N, H) -> (N, 2), computed once per (content, method, seed, params); optional disk cache.

    With cache_dir (e.g. `<run>/projections`), results are saved as `<key>.npy` so a restart reuses them.
    """
    key = cache_key(embeddings, method, seed, params)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key].copy()
        path = _file(cache_dir, method, key) if cache_dir is not None else None
        if path is not None and path.exists():
            out = np.load(path)
        else:
            out = compute_projection(embeddings, method, seed, **params)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = temp_beside(path, ".tmp.npy")
                np.save(tmp, out)
                tmp.replace(path)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out
        return out.copy()


def clear_cache() -> None:
    """Forget every in-memory projection (the disk cache stays)."""
    with _LOCK:
        _CACHE.clear()
