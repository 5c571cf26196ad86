"""The HTTP service (`tempolog serve`): FastAPI over a live engine, run by uvicorn."""
