"""Matrix-based Rényi entropy of order 2 on batch Gram matrices, as InfoSAM uses it (methods.md §8).

Sánchez Giraldo, Rao & Príncipe, "Measures of entropy from data using infinitely divisible
kernels", IEEE T-IT 2015; InfoSAM (Zhang, Yuan et al., ICML 2025) with α = 2 and a linear kernel:

* a batch of B samples with features X (each row L2-normalised) has the Gram matrix G = X Xᵀ;
  A = G / tr G acts as a density matrix; S_α(A) = log₂(tr Aᵅ) / (1 − α), so for α = 2
  S(A) = −log₂ ‖A‖_F²;
* the joint entropy of several variables is the entropy of the trace-normalised Hadamard product
  of their Gram matrices; mutual information I(A; B) = S(A) + S(B) − S(A, B).

What follows from these definitions (and tests/test_method_infosam.py asserts): 0 ≤ S(A) ≤ log₂ B,
with log₂ B for the identity and 0 for a rank-one matrix; I(A; all-ones) = 0; and for
unit-diagonal Gram matrices (as :func:`gram` makes them) S(A, B) ≥ max(S(A), S(B)), so
I(A; B) ≤ min(S(A), S(B)); I(A; identity) = S(A); S(A, A) ≥ S(A), equal exactly when every entry
of G is 0 or ±1 (samples identical or orthogonal). Unlike Shannon's, this mutual information is *not* always ≥ 0: it is
for B = 2 and for I(A; A), but e.g. partitions {1,2,3}{4} and {1,2,4}{3} of four samples give
log₂ 0.96 < 0.

Everything is computed in float32 (methods.md §14: matrix entropies stay out of reduced precision).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def gram(features: torch.Tensor) -> torch.Tensor:
    """B x B linear-kernel Gram matrix of B samples (any trailing shape), rows L2-normalised first."""
    rows = F.normalize(features.flatten(1).float(), dim=1)
    return rows @ rows.T


def renyi2_entropy(gram_matrix: torch.Tensor) -> torch.Tensor:
    """S₂(A) = −log₂ ‖A‖_F² of A = G / tr G, in bits."""
    normalised = gram_matrix / torch.trace(gram_matrix)
    return -torch.log2(normalised.pow(2).sum())


def joint_entropy(*gram_matrices: torch.Tensor) -> torch.Tensor:
    """S₂ of the Hadamard product of the Gram matrices (normalised inside :func:`renyi2_entropy`)."""
    product = gram_matrices[0]
    for other in gram_matrices[1:]:
        product = product * other
    return renyi2_entropy(product)


def mutual_information(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """I₂(A; B) = S₂(A) + S₂(B) − S₂(A, B), in bits."""
    return renyi2_entropy(a) + renyi2_entropy(b) - joint_entropy(a, b)
