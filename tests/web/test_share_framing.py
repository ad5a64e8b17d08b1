"""The share panel tells a teacher whether a course page on another site may frame the views, and how to allow it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_the_share_panel_says_who_may_frame_the_views(tmp_path):
    own = TestClient(create_app(Settings(data_dir=tmp_path / "a", rate_limit_per_minute=0))).get("/").text
    assert "lets only its own pages frame" in own and "UNROLLED_EMBED_ANCESTORS" in own
    lms = "https://moodle.example.edu"
    settings = Settings(data_dir=tmp_path / "b", rate_limit_per_minute=0, embed_frame_ancestors=("'self'", lms))
    listed = TestClient(create_app(settings)).get("/cell").text
    assert f"course pages on {lms} show its views" in listed
