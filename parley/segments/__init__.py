"""Segments: saved dynamic contact filters, compiled to one SQL query; broadcasts target them."""
