"""Signals customers sends for capability apps above it (which customers never imports).

``referrer_changed``: a customer's referrer (推荐人, the 老带新 link) was set, changed or
moved by a customers service (registration, edit, merge). Sent inside the service's
transaction with ``customer_ids`` (the customers whose ``referrer`` may differ from what
the referral records say) and ``actor``, so crm.referrals keeps its Referral rows in
step with ``Customer.referrer`` in the same transaction (a receiver's DomainError rolls
the customers write back).
"""

from django.dispatch import Signal

referrer_changed = Signal()
