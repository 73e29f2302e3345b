"""Deals: pipelines with stages, the board, won/lost, and the CRM dashboard."""
