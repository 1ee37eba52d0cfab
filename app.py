"""Insight: fine-tune a BERT-family model on your labeled text and understand the result."""

import streamlit as st

from insight_ui import auth, language, state
from trainer.i18n import tr

st.set_page_config(page_title=tr("Insight"), page_icon=":material/insights:", layout="wide")
state.init()
language.choose()  # ?lang= in the URL, the sidebar switch, or the browser
person = auth.gate()  # the sign-in page, when sign-in is set up and nobody is signed in

pages = {
    tr("Build"): [
        st.Page("insight_ui/pages/data.py", title=tr("Data"), icon=":material/table_view:", default=True),
        st.Page("insight_ui/pages/label.py", title=tr("Label text"), icon=":material/label:"),
        st.Page("insight_ui/pages/train.py", title=tr("Train"), icon=":material/model_training:"),
    ],
    tr("Understand"): [
        st.Page("insight_ui/pages/evaluate.py", title=tr("Evaluate"), icon=":material/fact_check:"),
        st.Page("insight_ui/pages/explain.py", title=tr("Explain"), icon=":material/lightbulb:"),
        st.Page("insight_ui/pages/embeddings.py", title=tr("Embeddings"), icon=":material/scatter_plot:"),
        st.Page("insight_ui/pages/compare.py", title=tr("Compare"), icon=":material/compare:"),
        st.Page("insight_ui/pages/glossary.py", title=tr("Glossary"), icon=":material/menu_book:"),
    ],
    tr("Use"): [
        st.Page("insight_ui/pages/apply.py", title=tr("Apply"), icon=":material/trending_up:"),
        st.Page("insight_ui/pages/monitors.py", title=tr("Monitors"), icon=":material/monitor_heart:"),
    ],
    tr("Share"): [
        st.Page("insight_ui/pages/export.py", title=tr("Export"), icon=":material/download:"),
    ],
}
if person.admin and auth.signed_in():  # who did what: for admins of a shared Insight
    pages[tr("Share")].append(
        st.Page("insight_ui/pages/audit.py", title=tr("Audit"), icon=":material/history:")
    )

st.navigation(pages, expanded=True).run()
