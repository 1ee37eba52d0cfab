"""Who may see and change what: people, local accounts, run owners and sharing, quotas, model roots, audit.

A `Person` is whoever acts: someone signed in to the app (OpenID Connect through Streamlit's `st.login`,
or a local account of `users`), or the machine's own user on the command line and in the app when no
sign-in is configured (the local owner, INSIGHT_LOCAL_OWNER, default: the system user name).

Modules: `people` (Person, the local owner, admins), `users` (local accounts, argon2 hashes),
`owners` (a run's owner and who it is shared with, `access.json` in the run folder), `quotas` (queued
jobs and disk per person), `models` (the model folders the app may open), `audit` (the append-only log).
"""

from trainer.access.people import Person, local_owner, local_person

__all__ = ["Person", "local_owner", "local_person"]
