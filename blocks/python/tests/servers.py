"""Throwaway PostgreSQL and ClickHouse servers on free loopback ports, owned by one test session."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CLICKHOUSE_SERVER = "/usr/sbin/clickhouse-server"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin(name: str) -> str:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name)) if root.exists() else []
    for version in versions:
        if (version / "bin" / name).exists():
            return str(version / "bin" / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed; install postgresql or set TEST_DATABASE_URL")
    return found


class PostgresServer:
    """initdb + pg_ctl in a temp dir; as root, run as the "postgres" user (PostgreSQL refuses root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="constellation-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o", options, "start")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, name: str, *args: str) -> None:
        command = [_postgres_bin(name), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


_CLICKHOUSE_CONFIG = """<yandex>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709120</mark_cache_size>
  <timezone>UTC</timezone>
  <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/error.log</errorlog><console>0</console></logger>
</yandex>
"""
_CLICKHOUSE_USERS = """<yandex>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default></users>
</yandex>
"""


class ClickHouseServer:
    """clickhouse-server with a standalone config in a temp dir, started as a child process."""

    def __init__(self, timeout: float = 30.0):
        from clickhouse_driver import Client

        self.dir = Path(tempfile.mkdtemp(prefix="constellation-ch-"))
        self.port = free_port()
        (self.dir / "config.xml").write_text(_CLICKHOUSE_CONFIG.format(tcp=self.port, http=free_port(), dir=self.dir))
        (self.dir / "users.xml").write_text(_CLICKHOUSE_USERS)
        self.process = subprocess.Popen(
            [CLICKHOUSE_SERVER, f"--config-file={self.dir / 'config.xml'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.dir,
        )
        self.url = f"clickhouse://default:@127.0.0.1:{self.port}/default"
        deadline = time.monotonic() + timeout
        while True:
            try:
                Client.from_url(self.url).execute("SELECT 1")
                return
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "error.log").read_text() if (self.dir / "error.log").exists() else ""
                    self.stop()
                    raise RuntimeError(f"clickhouse-server did not start:\n{log[-2000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
