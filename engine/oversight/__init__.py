"""Oversight: the tamper-evident audit log, misuse signals for supervisors, and fairness
figures for auditors. Everything here reads ids, codes, times and counts, never the
personal data the operations centre guards."""
