"""The stream pipeline: the faust app run by ``casehub worker`` (validate, dedupe, enrich, route, project, timers)."""
