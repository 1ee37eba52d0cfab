"""Projection: shapes, tiny and constant inputs, the cache (memory and disk) and thread safety."""

from __future__ import annotations

import threading
from unittest import mock

import numpy as np
import pytest

from trainer.inspect import projection
from trainer.inspect.projection import cache_key, compute_projection, project


@pytest.fixture(autouse=True)
def _fresh_cache():
    projection.clear_cache()
    yield
    projection.clear_cache()


def blobs(n: int = 40, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = np.array([np.full(dim, -5.0), np.full(dim, 5.0)])
    return (centers[np.arange(n) % 2] + rng.normal(size=(n, dim))).astype(np.float32)


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_every_method_gives_n_by_2_and_separates_blobs(method: str) -> None:
    x = blobs()
    out = project(x, method=method, seed=0)
    assert out.shape == (40, 2) and np.isfinite(out).all()
    a, b = out[::2], out[1::2]
    # the two blobs land apart: their centroids are further apart than a blob's spread
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > a.std(0).max() and gap > b.std(0).max()


def test_pca_matches_a_hand_computed_projection() -> None:
    x = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [4.0, 1.0, 0.0], [6.0, 1.0, 0.0]])
    out = compute_projection(x, "pca")
    # the first component follows the long axis (x), so order along it is kept (up to sign)
    first = out[:, 0] * np.sign(out[-1, 0] - out[0, 0])
    assert np.all(np.diff(first) > 0)
    assert abs(out[:, 0].mean()) < 1e-5


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_tiny_inputs_do_not_fail(method: str, n: int) -> None:
    out = project(blobs(max(n, 1))[:n], method=method)
    assert out.shape == (n, 2) and np.isfinite(out).all()


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_constant_input_gives_zeros(method: str) -> None:
    out = project(np.ones((10, 4)), method=method)
    assert out.shape == (10, 2) and not out.any()


def test_bad_arguments_are_plain_errors() -> None:
    with pytest.raises(ValueError, match="method"):
        project(blobs(), method="lda")
    with pytest.raises(ValueError, match="2-D"):
        project(np.zeros(5))


def test_cache_computes_each_projection_once() -> None:
    x = blobs()
    with mock.patch.object(projection, "compute_projection", wraps=compute_projection) as spy:
        first = project(x, "pca")
        second = project(x.copy(), "pca")  # same content, different object
        project(x, "pca", seed=1)  # different params -> computed
    assert spy.call_count == 2
    np.testing.assert_array_equal(first, second)
    second[:] = 0  # callers get copies: the cached value is not changed
    assert project(x, "pca").any()


def test_key_depends_on_content_method_and_params() -> None:
    x = blobs()
    y = x.copy()
    y[0, 0] += 1
    keys = {
        cache_key(x, "pca", 0, {}),
        cache_key(y, "pca", 0, {}),
        cache_key(x, "tsne", 0, {}),
        cache_key(x, "tsne", 0, {"perplexity": 5}),
        cache_key(x.astype(np.float64), "pca", 0, {}),
    }
    assert len(keys) == 5
    assert cache_key(x, "pca", 0, {}) == cache_key(x.copy(), "pca", 0, {})


def test_disk_cache_survives_a_restart(tmp_path) -> None:
    x = blobs()
    first = project(x, "pca", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("pca-*.npy"))) == 1
    projection.clear_cache()  # a restart forgets memory
    with mock.patch.object(projection, "compute_projection", side_effect=AssertionError("recomputed")):
        again = project(x, "pca", cache_dir=tmp_path)
    np.testing.assert_array_equal(first, again)


def test_concurrent_callers_share_one_computation() -> None:
    x = blobs()
    results, calls = [], []

    def slow(*args, **kwargs):
        calls.append(1)
        return compute_projection(*args, **kwargs)

    with mock.patch.object(projection, "compute_projection", side_effect=slow):
        threads = [threading.Thread(target=lambda: results.append(project(x, "pca"))) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(calls) == 1 and len(results) == 6
    for r in results[1:]:
        np.testing.assert_array_equal(results[0], r)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_beyond_the_fit_sample_points_are_placed_and_still_separate(method: str) -> None:
    x = blobs(n=300)
    out = compute_projection(x, method, seed=0, fit_sample=80)
    assert out.shape == (300, 2) and np.isfinite(out).all()
    fitted = projection.fit_rows(300, 0, 80)
    placed = np.setdiff1d(np.arange(300), fitted)
    assert len(fitted) == 80 and len(placed) == 220
    a, b = out[placed][placed % 2 == 0], out[placed][placed % 2 == 1]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > a.std(0).max() and gap > b.std(0).max(), "placed points land with their own blob"


def test_placement_is_the_weighted_mean_of_the_nearest_fitted_points() -> None:
    x = np.array([[0.0], [10.0], [1.0], [9.0]])
    fitted = np.array([[0.0, 0.0], [100.0, 0.0]])
    out = projection.place(x, np.array([0, 1]), fitted, k=2)
    assert (
        out[0].tolist() == [0.0, 0.0]
        and out[2, 0] == pytest.approx(10.0)
        and out[3, 0] == pytest.approx(90.0)
    )


def test_the_page_says_how_a_large_map_was_made() -> None:
    assert projection.approach("pca", 50_000) == "A map of all 50,000 points, drawn with PCA."
    assert "UMAP fitted on a random sample of 5,000 points; the other 45,000" in projection.approach(
        "umap", 50_000
    )
    assert "nearest sampled neighbours" in projection.approach("tsne", 50_000)
    assert projection.approach("tsne", 3_000) == "A map of all 3,000 points, drawn with t-SNE."
