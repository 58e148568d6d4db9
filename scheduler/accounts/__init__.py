"""Accounts: sign-in by email link, confirmation, and what a person may do with their data."""
