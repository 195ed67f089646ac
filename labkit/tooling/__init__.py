"""The lab's tooling: the ``labkit`` command (cli, doctor, launch, reset), notebook hygiene,
the lab's folders (paths), and the crash demo the data-safety tests kill.

Not part of what a lesson teaches; see docs/DEVELOPING.md.
"""
