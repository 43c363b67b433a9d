"""Customer events (客户活动): invitations through the care outbox, RSVP, attendance and the gifts issued at the event."""
