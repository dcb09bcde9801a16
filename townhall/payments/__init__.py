"""Payments: fees on service types and permits, a provider adapter, receipts, refunds and
reconciliation. Amounts are integers in minor units with their currency. See docs/payments.md.
"""
