"""Tests of the AsyncAPI documents: validated with the AsyncAPI CLI, checked against the cluster and real records."""
