"""Referrals (老客户带新客户): who brought whom, the status that follows the new customer's deal, rewards with approval."""
