"""The bare reference endpoint: FastAPI + an asyncpg pool, one SELECT by primary key, nothing else.

Served by uvicorn in its own process with the services' settings (no access log; uvloop and httptools when
installed, as for them), so that a gateway read compares with what the same parts cost without the project:
`DATABASE_URL=postgresql://… python -m uvicorn bench.bare_app:app --port N`.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict:
    row = await app.state.pool.fetchrow("SELECT id, name, email FROM bench_items WHERE id = $1", item_id)
    if row is None:
        raise HTTPException(404)
    return dict(row)


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
