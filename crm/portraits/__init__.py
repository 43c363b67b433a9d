"""Customer portraits (客户描摹): three structured portraits per consultant per quarter, quota reminders and the quarter's analysis."""
