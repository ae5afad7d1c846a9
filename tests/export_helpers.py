"""Spreadsheet exports in tests: press the button, wait for the job as its page does, download the file."""
import time

from tests.conftest import TEST_DATABASE_URL

MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def shared_database(app_config: dict, tmp_path) -> dict:
    """Return the test config with a database the export's thread can share (SQLite in memory is per thread)."""
    if not TEST_DATABASE_URL:
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'exports.db'}"
    return app_config


def start(client, what: str, fmt: str, query) -> str:
    """Press an export button; return the job id of the progress page it leads to."""
    response = client.post(f"/dashboard/export/{what}.{fmt}", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/dashboard/exports/" in response.location
    return response.location.rsplit("/", 1)[-1]


def wait_for(client, job_id: str, seconds: float = 60, state_url: str = "/dashboard/exports/{}.json") -> dict:
    """Poll the job's state (at `state_url`, as its page does) until it is done or failed; return the state."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(state_url.format(job_id)).get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"export {job_id} did not finish: {state}")


def export_file(client, what: str, fmt: str, query) -> bytes:
    """Export through the job and return the downloaded file."""
    state = wait_for(client, start(client, what, fmt, query))
    assert state["status"] == "done", state
    with client.get(state["download_url"]) as response:
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.mimetype == MIMETYPES[fmt]
        return response.data
