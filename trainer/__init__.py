"""Insight's model side: data, fine-tuning, jobs, runs, inference, attribution, projection.

Never imports streamlit. Heavy libraries (torch, transformers, captum) are imported inside the
functions that need them, so `import trainer.data` or `trainer.runs` stays cheap for the UI.
"""

__version__ = "0.1.0"
