"""Crypto-shredding: personal fields in the hub's topics encrypted under per-subject data keys that erasure destroys."""
