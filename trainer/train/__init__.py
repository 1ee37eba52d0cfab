"""Fine-tuning: transformers.Trainer with progress events, cancel, resume and divergence stops."""
