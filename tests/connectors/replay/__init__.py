"""Tests of casehub replay against the real broker."""
