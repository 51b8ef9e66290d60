"""``python -m api.jobs [--db URL] [--parent PID]``: run a job worker until stopped."""

from api.jobs.worker import main

if __name__ == "__main__":
    raise SystemExit(main())
