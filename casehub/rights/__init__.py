"""A data subject's rights under PDPA B.E. 2562: who received what about a person (``casehub subject report``)."""
