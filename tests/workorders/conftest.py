"""Work-order test fixtures."""
