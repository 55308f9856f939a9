"""Accounts: who a request acts for."""
