"""Insight: fine-tune a BERT-family model on your labeled text and understand the result."""

import streamlit as st

from insight_ui import auth, state

st.set_page_config(page_title="Insight", page_icon=":material/insights:", layout="wide")
state.init()
person = auth.gate()  # the sign-in page, when sign-in is set up and nobody is signed in

pages = {
    "Build": [
        st.Page("insight_ui/pages/data.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("insight_ui/pages/train.py", title="Train", icon=":material/model_training:"),
    ],
    "Understand": [
        st.Page("insight_ui/pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
        st.Page("insight_ui/pages/explain.py", title="Explain", icon=":material/lightbulb:"),
        st.Page("insight_ui/pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
        st.Page("insight_ui/pages/compare.py", title="Compare", icon=":material/compare:"),
    ],
    "Use": [
        st.Page("insight_ui/pages/apply.py", title="Apply", icon=":material/trending_up:"),
        st.Page("insight_ui/pages/monitors.py", title="Monitors", icon=":material/monitor_heart:"),
    ],
    "Share": [
        st.Page("insight_ui/pages/export.py", title="Export", icon=":material/download:"),
    ],
}
if person.admin and auth.signed_in():  # who did what: for admins of a shared Insight
    pages["Share"].append(st.Page("insight_ui/pages/audit.py", title="Audit", icon=":material/history:"))

st.navigation(pages, expanded=True).run()
