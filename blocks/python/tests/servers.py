"""Throwaway PostgreSQL, ClickHouse and S3 (moto) servers on free loopback ports, owned by one test session.

Every server is stopped whatever ends the session: by its fixture's finalizer normally; at
interpreter exit (atexit) if a set-up failed half way; on SIGTERM or SIGHUP, which would otherwise
end the process with no finalizer or atexit run (Ctrl-C is a KeyboardInterrupt: pytest tears the
session down); and, if the process is killed outright, by a small reaper shell that waits for it
to die and then stops what is still registered.
"""

import atexit
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLICKHOUSE_SERVER = "/usr/sbin/clickhouse-server"

_live: dict[int, tuple] = {}
"""Registered servers: key -> (how to stop it now, the reaper that stops it if this process is killed)."""


def stop_on_exit(stop_now, shell: str):
    """Registers a server's stop (a callable and its shell form); returns the release for a normal stop."""
    _install()
    reaper = subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; {shell}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    key = id(reaper)
    _live[key] = (stop_now, reaper)

    def release():
        entry = _live.pop(key, None)
        if entry:
            entry[1].kill()
            entry[1].wait()

    return release


def _stop_all(*_):
    for key in reversed(list(_live)):
        stop_now, reaper = _live.pop(key)
        try:
            stop_now()
        finally:
            reaper.kill()


def _on_signal(signum, _frame):
    _stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


_installed = False


def _install():
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_stop_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)


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
        stop_args = ("-D", str(self.data), "-m", "immediate", "-w", "stop")
        shell = f"{shlex.join(self._command('pg_ctl', *stop_args))} >/dev/null 2>&1; rm -rf {shlex.quote(str(self.dir))}"
        self._release = stop_on_exit(self._stop_now, shell)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
            options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o", options, "start")
        except BaseException:
            self.stop()
            raise
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _command(self, name: str, *args: str) -> list[str]:
        command = [_postgres_bin(name), *args]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def _run(self, name: str, *args: str) -> None:
        subprocess.run(self._command(name, *args), check=True, capture_output=True)

    def _stop_now(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self) -> None:
        self._release()
        self._stop_now()


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
        # A process group of its own, so that it and whatever it starts are stopped together.
        self.process = subprocess.Popen(
            [CLICKHOUSE_SERVER, f"--config-file={self.dir / 'config.xml'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.dir,
            start_new_session=True,
        )
        pid = self.process.pid
        # The reaper checks the pid is still this server (its config path) before it kills the group.
        check = f"tr '\\0' ' ' < /proc/{pid}/cmdline 2>/dev/null | grep -qF -- {shlex.quote(str(self.dir))}"
        self._release = stop_on_exit(self._kill_now, f"{check} && kill -9 -{pid}; rm -rf {shlex.quote(str(self.dir))}")
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

    def _signal(self, signum) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def _kill_now(self) -> None:
        self._signal(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self) -> None:
        self._release()
        try:
            if self.process.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.process.wait()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class MotoS3Server:
    """moto's server mode (moto[server], from this virtualenv) as a local S3-compatible store.

    Debian packages neither Garage nor MinIO; moto speaks the S3 API that boto3 and the blocks use.
    With ``INITIAL_NO_AUTH_ACTION_COUNT`` it checks keys against its own IAM after that many
    requests: the set-up creates a user and its key unauthenticated, then every request must sign
    with that key, so a test can see wrong keys refused (moto accepts any key otherwise).
    """

    _SETUP_REQUESTS = 3  # create_user, put_user_policy, create_access_key

    def __init__(self, timeout: float = 30.0):
        import boto3
        import requests

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        moto = Path(sys.executable).parent / "moto_server"
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(self._SETUP_REQUESTS)}
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        pid = self.process.pid
        check = f"tr '\\0' ' ' < /proc/{pid}/cmdline 2>/dev/null | grep -qF -- ' -p {self.port}'"
        self._release = stop_on_exit(self._kill_now, f"{check} && kill -9 -{pid}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                # moto's own API: not an AWS action, so it does not use up the unauthenticated ones.
                requests.get(f"{self.url}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start on port {self.port} ({moto})")
                time.sleep(0.2)
        iam = boto3.client("iam", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="constellation")
        policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
        iam.put_user_policy(UserName="constellation", PolicyName="all", PolicyDocument=policy)
        key = iam.create_access_key(UserName="constellation")["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]

    def client(self):
        """A boto3 S3 client signed with the server's one valid key."""
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
        )

    def _kill_now(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self._release()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill_now()
                self.process.wait()
