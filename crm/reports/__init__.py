"""Report packs (日报、周报、月报): generated at the period's end or on demand, saved as snapshots that never change, exported to Excel and PDF."""
