"""Print mechanism profiles from their datasheets, shared by the board drivers and the twin."""
