"""Real servers for the block library's tests.

One PostgreSQL, one ClickHouse and one S3-compatible store (moto) per session (or the ones in TEST_DATABASE_URL and
TEST_CLICKHOUSE_URL), and a fresh database in each per test so tests never see each other's rows.
"""

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest
from clickhouse_driver import Client

sys.path.insert(0, str(Path(__file__).parent))
from servers import ClickHouseServer, MotoS3Server, PostgresServer, free_port  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def postgres_server_url():
    """A PostgreSQL server URL with rights to create databases."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    server = PostgresServer()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def clickhouse_server_url():
    """A ClickHouse native-protocol URL (clickhouse://user:password@host:port/database)."""
    if os.environ.get("TEST_CLICKHOUSE_URL"):
        yield os.environ["TEST_CLICKHOUSE_URL"]
        return
    server = ClickHouseServer()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on a free loopback port, with one valid key (``access_key_id``/``secret_access_key``)."""
    server = MotoS3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """The session's S3 server with its keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the blocks' default names)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    return s3_server


@pytest.fixture
def bucket(s3):
    """The name of a new, empty bucket on the S3 server (each test its own)."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=name)
    return name


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
def pg_url(postgres_server_url):
    """The URL of a new, empty Postgres database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield _with_database(postgres_server_url, name)
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def ch_database(clickhouse_server_url):
    """The name of a new ClickHouse database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    client = Client.from_url(clickhouse_server_url)
    client.execute(f"CREATE DATABASE {name}")
    yield name
    client.execute(f"DROP DATABASE IF EXISTS {name}")
    client.disconnect()


@pytest.fixture
def ch(clickhouse_server_url):
    """A ClickHouse client for assertions."""
    client = Client.from_url(clickhouse_server_url)
    yield client
    client.disconnect()


@pytest.fixture
def closed_port_url():
    """A ClickHouse URL where nothing listens: a sink pointed there fails to connect."""
    return f"clickhouse://default:@127.0.0.1:{free_port()}/default"


@pytest.fixture(autouse=True)
def table_storage(tmp_path, monkeypatch):
    """Each test's own table storage folder (where the IO manager writes values between assets)."""
    folder = tmp_path / "table-data"
    monkeypatch.setenv("CONSTELLATION_TABLE_STORAGE", str(folder))
    return folder


@pytest.fixture
def instance(tmp_path):
    """One persistent Dagster instance for the whole test, so watermarks carry from run to run."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    inst = dg.DagsterInstance.local_temp(str(home), overrides={"telemetry": {"enabled": False}})
    yield inst
    inst.dispose()


@pytest.fixture
def load_location(tmp_path):
    """Copies a fixture code location, patches block config in its pipeline.json, imports it.

    ``load_location("customers_location", load_customers={"database": "t_x"})`` returns the
    imported definitions module; its ``defs`` and ``pipeline`` are what Dagster would load.
    ``top_level`` replaces whole top-level keys, e.g. ``{"partitions": {...}}``.
    """

    def load(name: str, top_level: dict | None = None, **config_patches: dict):
        # A folder of its own per load: a test may load the same fixture twice.
        folder = Path(tempfile.mkdtemp(dir=tmp_path)) / name
        shutil.copytree(FIXTURES / name, folder)
        pipeline_json = folder / "pipeline.json"
        data = json.loads(pipeline_json.read_text())
        data.update(top_level or {})
        for block_id, patch in config_patches.items():
            config = data["blocks"][block_id]["config"]
            for key, value in patch.items():
                if value is None:
                    config.pop(key, None)
                else:
                    config[key] = value
        pipeline_json.write_text(json.dumps(data, indent=2, sort_keys=True))
        module_name = f"location_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(module_name, folder / "definitions.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
