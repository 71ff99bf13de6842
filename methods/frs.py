"""Fisher Ratio Separation (SHERPA §3.3, App. C): the task-relevant subspace of the guiding feature.

Each sample's feature ``Feat`` (m channels x d positions) is centred per channel (App. C.2), the
channel Gram matrix ``A = Σ_samples Feat Featᵀ`` (m x m) is eigendecomposed, and the projection
``u`` keeps the eigenvectors of the k largest eigenvalues (Eq. 19), which maximises
``trace(uᵀ A u)`` over all orthonormal m x k bases. k is the smallest number whose eigenvalues hold
at least ``coverage`` of the total ("Var Ratio", Table 5), or is given directly (Table 19).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sherpa_bench.harness.errors import ConfigError


@dataclass
class Subspace:
    """basis: m x k orthonormal columns (u); eigenvalues: all m, descending; coverage: share of their
    sum held by the first k."""

    basis: torch.Tensor
    eigenvalues: torch.Tensor
    k: int
    coverage: float


def channel_gram(features: torch.Tensor) -> torch.Tensor:
    """``Σ_s Feat_s Feat_sᵀ`` of S samples (S x m x d), each channel centred over its d entries."""
    centred = features - features.mean(dim=-1, keepdim=True)
    return torch.einsum("smd,snd->mn", centred.double(), centred.double())


def choose_k(eigenvalues: torch.Tensor, coverage: float) -> int:
    """Smallest k whose leading eigenvalues hold at least ``coverage`` of the total."""
    if not 0.0 <= coverage <= 1.0:
        raise ConfigError(f"coverage must lie in [0, 1], got {coverage}")
    if coverage == 0.0:
        return 0
    shares = torch.cumsum(eigenvalues, 0) / eigenvalues.sum()
    # 1e-12 absorbs float round-off so that coverage 1.0 is reached by the last eigenvalue
    return int((shares < coverage - 1e-12).sum()) + 1


def fit_subspace(features: torch.Tensor, coverage: float | None = 0.75, k: int | None = None) -> Subspace:
    """The FRS projection of S sample features (S x m x d); ``k`` overrides ``coverage`` when given."""
    gram = channel_gram(features)
    eigenvalues, vectors = torch.linalg.eigh(gram)  # ascending
    eigenvalues, vectors = eigenvalues.flip(0).clamp_min(0), vectors.flip(1)
    m = gram.shape[0]
    if k is None:
        if coverage is None:
            raise ConfigError("give the FRS either a coverage or k")
        k = choose_k(eigenvalues, coverage)
    if not 0 <= k <= m:
        raise ConfigError(f"k must lie in 0..{m} (the number of channels), got {k}")
    total = float(eigenvalues.sum())
    held = float(eigenvalues[:k].sum() / total) if total > 0 else 0.0
    return Subspace(vectors[:, :k].float(), eigenvalues.float(), k, held)


def fisher_ratio(projected: torch.Tensor, foreground: torch.Tensor) -> torch.Tensor:
    """Fisher ratio of each projected direction with positions labelled fg / bg (Table 16).

    Arguments:
        projected: S x k x d features projected on k directions.
        foreground: S x d bool, the ground-truth label of each position.

    Returns:
        k ratios ``(μ_fg − μ_bg)² / (σ²_fg + σ²_bg)`` pooled over all samples' positions.
    """
    values = projected.transpose(0, 1).reshape(projected.shape[1], -1).double()
    labels = foreground.reshape(-1)
    fg, bg = values[:, labels], values[:, ~labels]
    if fg.shape[1] < 2 or bg.shape[1] < 2:
        return torch.full((values.shape[0],), float("nan"))
    between = (fg.mean(1) - bg.mean(1)) ** 2
    within = fg.var(1) + bg.var(1)
    return (between / within.clamp_min(1e-30)).float()
