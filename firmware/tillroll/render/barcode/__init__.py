"""1D barcodes (GS k), one module a symbology family; symbol.py holds the symbol."""
