"""HTML routes of the simulator; filled in by the front-end work."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
