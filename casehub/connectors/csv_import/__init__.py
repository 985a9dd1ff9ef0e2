"""CSV upload: an LAO's spreadsheet of case reports becomes case.reported events (gateway and `casehub import`)."""
