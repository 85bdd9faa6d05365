"""End-To-End Memory Networks (Sukhbaatar, Szlam, Weston & Fergus 2015, arXiv 1503.08895).

Sentences x_i are stored in memory; a question q is answered after K hops:

    m_i = Σ_j l_j ⊙ A x_ij + T_A(i)        input memories   (§2.1, §4.1 PE and TE)
    c_i = Σ_j l_j ⊙ C x_ij + T_C(i)        output memories
    u¹  = Σ_j l_j ⊙ B q_j                  the question
    p   = softmax(uᵀ m_i)                   attention (no softmax during linear start, §4.2)
    o   = Σ_i p_i c_i
    u^{k+1} = u^k + o^k   (adjacent)   or   H u^k + o^k   (layer-wise)         (§2.2)
    â   = softmax(W (o^K + u^K))

Position encoding (§4.1): l_kj = (1 − j/J) − (k/d)(1 − 2j/J), j = 1…J the word's
position in a sentence of J words, k = 1…d the embedding dimension. Bag of
words: l = 1. Temporal encoding T_A, T_C: one row per memory slot, slot 0 the
most recent sentence. Weight tying (§2.2): adjacent — A^{k+1} = C^k, B = A¹,
Wᵀ = C^K (K + 1 embedding matrices); layer-wise — one A and one C for every
hop, separate B and W, and a learnt H between hops.

Word id 0 is the null symbol padding sentences and memories; its embedding is
zero (§4.2), and memory slots holding no sentence are left out of the softmax.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Encoding = Literal["bow", "pe"]
Tying = Literal["adjacent", "layerwise"]


def position_encoding(lengths: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    """l_kj for sentences of `lengths` words (any shape S), padded to `width`: (*S, width, dim).

    The paper's formula with j, k counted from 1; positions past a sentence's
    end get weight 0 (their words are the null symbol anyway)."""
    J = lengths.clamp(min=1).to(torch.float32).unsqueeze(-1).unsqueeze(-1)  # (*S, 1, 1)
    j = torch.arange(1, width + 1, dtype=torch.float32, device=lengths.device)
    j = j.view(*([1] * lengths.dim()), width, 1)  # (1.., width, 1)
    k = torch.arange(1, dim + 1, dtype=torch.float32, device=lengths.device) / dim  # (dim,)
    weights = (1 - j / J) - k * (1 - 2 * j / J)  # (*S, width, dim)
    return weights * (j <= J)


class MemN2N(nn.Module):
    def __init__(
        self,
        vocab_size: int,  # words, plus the null symbol at id 0
        dim: int = 20,
        hops: int = 3,
        memory_size: int = 50,
        encoding: Encoding = "pe",
        temporal: bool = True,
        tying: Tying = "adjacent",
        init_std: float = 0.1,
    ) -> None:
        super().__init__()
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        self.vocab_size, self.dim, self.hops = vocab_size, dim, hops
        self.memory_size, self.encoding, self.temporal, self.tying = (
            memory_size, encoding, temporal, tying,
        )  # fmt: skip
        self.linear = False  # linear start: no softmax in the memory layers

        def emb() -> nn.Parameter:
            return nn.Parameter(torch.randn(vocab_size, dim) * init_std)

        def time() -> nn.Parameter:
            return nn.Parameter(torch.randn(memory_size, dim) * init_std)

        if tying == "adjacent":
            # E_0 … E_K: A^k = E_{k-1}, C^k = E_k, B = E_0, W = E_K. The temporal rows tie the
            # same way (T_A^{k+1} = T_C^k), as in the authors' code where time is extra words.
            self.E = nn.ParameterList([emb() for _ in range(hops + 1)])
            self.T = nn.ParameterList([time() for _ in range(hops + 1)])
        elif tying == "layerwise":
            self.E = nn.ParameterList([emb() for _ in range(4)])  # A, C, B, W
            self.T = nn.ParameterList([time() for _ in range(2)])  # T_A, T_C
            self.H = nn.Linear(dim, dim, bias=False)
            nn.init.normal_(self.H.weight, std=init_std)
        else:
            raise ValueError(f"tying is adjacent or layerwise, not {tying!r}")
        self.zero_null()

    # ------------------------------------------------------------ which matrix is which

    def A(self, k: int) -> nn.Parameter:
        """The input embedding of hop k (1-based)."""
        return self.E[k - 1] if self.tying == "adjacent" else self.E[0]

    def C(self, k: int) -> nn.Parameter:
        return self.E[k] if self.tying == "adjacent" else self.E[1]

    def T_A(self, k: int) -> nn.Parameter:
        return self.T[k - 1] if self.tying == "adjacent" else self.T[0]

    def T_C(self, k: int) -> nn.Parameter:
        return self.T[k] if self.tying == "adjacent" else self.T[1]

    @property
    def B(self) -> nn.Parameter:
        return self.E[0] if self.tying == "adjacent" else self.E[2]

    @property
    def W(self) -> nn.Parameter:
        """The answer matrix, (V, d): â = softmax(W u)."""
        return self.E[self.hops] if self.tying == "adjacent" else self.E[3]

    @torch.no_grad()
    def zero_null(self) -> None:
        """The null symbol's embedding is constrained to zero (§4.2)."""
        for e in self.E:
            e[0].zero_()

    # ------------------------------------------------------------ forward

    def _weights(self, words: torch.Tensor) -> torch.Tensor | None:
        if self.encoding == "bow":
            return None
        return position_encoding((words != 0).sum(-1), words.shape[-1], self.dim)

    def _embed(
        self, E: torch.Tensor, words: torch.Tensor, weights: torch.Tensor | None
    ) -> torch.Tensor:
        x = E[words]  # (..., L, d)
        return (x if weights is None else x * weights).sum(-2)  # (..., d)

    def forward(
        self,
        stories: torch.Tensor,  # (N, M, L) word ids, slot 0 the most recent sentence
        queries: torch.Tensor,  # (N, Lq)
        times: torch.Tensor | None = None,  # (N, M) temporal index of each slot (default: slot)
        return_attention: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Answer logits over the vocabulary (N, V); with the attention (N, K, M) if asked."""
        N, M, _ = stories.shape
        mask = (stories != 0).any(-1)  # (N, M) slots holding a sentence
        if times is None:
            times = torch.arange(M, device=stories.device).expand(N, M)
        lm, lq = self._weights(stories), self._weights(queries)
        u = self._embed(self.B, queries, lq)  # (N, d)
        cache: dict[tuple[int, int], torch.Tensor] = {}

        def memory(E: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
            key = (id(E), id(T))
            if key not in cache:  # adjacent tying: c^k and m^{k+1} are the same tensor
                emb = self._embed(E, stories, lm)  # (N, M, d)
                cache[key] = emb + T[times] if self.temporal else emb
            return cache[key]

        attention = []
        for k in range(1, self.hops + 1):
            m = memory(self.A(k), self.T_A(k))  # (N, M, d)
            c = memory(self.C(k), self.T_C(k))  # (N, M, d)
            scores = torch.einsum("nmd,nd->nm", m, u)  # (N, M)
            if self.linear:
                p = scores * mask
            else:
                p = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
                p = torch.nan_to_num(p)  # a story with no sentence yet attends to nothing
            o = torch.einsum("nm,nmd->nd", p, c)  # (N, d)
            attention.append(p)
            # u^{k+1} = H u^k + o^k between layer-wise hops; the last is W(o^K + u^K), eq. 5
            u = self.H(u) + o if k < self.hops and self.tying == "layerwise" else u + o
        logits = u @ self.W.t()  # (N, V)
        logits = logits.clone()
        logits[:, 0] = float("-inf")  # the null symbol is never an answer
        if return_attention:
            return logits, torch.stack(attention, 1)
        return logits
