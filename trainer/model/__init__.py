"""Models: backbones and heads, features, batched forward passes, the CPU bf16 check."""
