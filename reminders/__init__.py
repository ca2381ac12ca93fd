"""Time-driven work (提醒): the periodic due-scan tick and cron-like jobs."""
