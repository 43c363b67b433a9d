"""Training (培训): plans, sessions, attendance, assessment scores, summaries and each person's record."""
