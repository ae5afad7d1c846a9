"""Planning: managers assign visits one by one or from a CSV file, and follow what is open or overdue."""
