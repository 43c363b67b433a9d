"""Plain helpers with no models: mobile numbers and masking, field encryption, calendars."""
