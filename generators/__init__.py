"""Hypothesis strategies that build cases aimed at exec's boundaries."""
