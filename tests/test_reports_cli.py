"""`flask reports ...` writes the same PDFs as the web, and batches into a ZIP."""
import zipfile

import pytest

from tests.factories_scored import build_network
from tests.reports_helpers import pdf_text


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def test_location_report_from_the_command_line(runner, network, tmp_path):
    target = tmp_path / "a1.pdf"
    result = runner.invoke(args=["reports", "location", network["a1"].code, "--from", "2024-04-01",
                                 "--to", "2024-06-30", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = pdf_text(target.read_bytes())
    assert "A1" in text and "90.3" in text  # (100 + 80.6) / 2


def test_visit_and_summary_reports(runner, network, tmp_path):
    visit = network["visits"]["a1_q2_loss"]
    result = runner.invoke(args=["reports", "visit", str(visit.id), "-o", str(tmp_path / "v.pdf")])
    assert result.exit_code == 0, result.output
    assert "80.6" in pdf_text((tmp_path / "v.pdf").read_bytes())
    result = runner.invoke(args=["reports", "region", network["north"].code, "--from", "2024-04-01", "--to",
                                 "2024-06-30", "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    assert "League table" in pdf_text((tmp_path / "r.pdf").read_bytes())


def test_mistakes_give_clear_messages(runner, network, tmp_path):
    result = runner.invoke(args=["reports", "location", "NOPE", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and "no location with code 'NOPE'" in result.output
    result = runner.invoke(args=["reports", "location", network["a1"].code, "--from", "2024-02-30"])
    assert result.exit_code == 2 and "2024-03-31" in result.output
    result = runner.invoke(args=["reports", "visit", "999999"])
    assert result.exit_code == 2
    assert not (tmp_path / "x.pdf").exists()


def test_batch_from_the_command_line(runner, network, tmp_path):
    target = tmp_path / "q2.zip"
    result = runner.invoke(args=["reports", "batch", "--from", "2024-04-01", "--to", "2024-06-30",
                                 "--region", network["north"].code, "-o", str(target)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert names == ["location-L001-sample-visit-2024-04-01-2024-06-30.pdf",
                             "location-L002-sample-visit-2024-04-01-2024-06-30.pdf"]
        assert "A2" in pdf_text(archive.read(names[1]))
    assert "2 reports" in result.output
