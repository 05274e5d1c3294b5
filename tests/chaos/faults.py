"""The faults of issue 9 against the running stack, each recorded as an outage window on time.monotonic().

Every fault restores what it broke even when interrupted, so the session's later tests find the system whole.
The durations (broker paused 20 s, PostgreSQL down 10 s) are the outages' lengths, not waits for business time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from portal_stack.stack import SERVICES, ServiceProcess, Stack


@dataclass(frozen=True)
class Window:
    fault: str
    started: float
    ended: float

    def covers(self, started: float, ended: float) -> bool:
        return started <= self.ended and ended >= self.started


@dataclass
class Faults:
    stack: Stack
    windows: list[Window] = field(default_factory=list)

    @contextlib.contextmanager
    def window(self, fault: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.windows.append(Window(fault, started, time.monotonic()))
            print(f"  {fault}: {self.windows[-1].ended - started:.1f} s until recovered", flush=True)

    def kill_and_restart(self, name: str) -> None:
        with self.window(f"SIGKILL {name}"):
            self.stack.processes[name].kill()
            self.stack.restart(name)

    def pause_broker(self, seconds: float = 20) -> None:
        """SIGSTOP/SIGCONT: Tansu keeps topics in memory, so a pause is the outage to survive, never a restart."""
        kafka = self.stack.infra.kafka
        with self.window(f"broker paused {seconds:g} s"):
            kafka.pause()
            try:
                time.sleep(seconds)
            finally:
                kafka.resume()

    def stop_database(self, seconds: float = 10) -> None:
        """`pg_ctl stop -m fast`, then a start on the same data directory: every connection is cut."""
        postgres = self.stack.infra.postgres
        with self.window(f"PostgreSQL stopped {seconds:g} s"):
            postgres.shut_down()
            try:
                time.sleep(seconds)
            finally:
                postgres.start_again()

    def heal(self) -> None:
        """Start again whatever a failed fault left dead."""
        for name in self.stack.crashed():
            self.stack.restart(name)

    def second_replicas(self, gate: Callable[[str], None], *, kill_first: bool) -> None:
        """A second process of every service (consumer groups of two members), then SIGKILL one of each: the
        second (the survivors take its partitions over), or the first, which serves the gateway and is restarted."""
        replicas = [self.stack.replica(name) for name in SERVICES]
        try:
            for replica in replicas:
                replica.wait_ready()
            gate("two replicas of every service")
            if kill_first:
                with self.window("SIGKILL the first replica of every service"):
                    _kill_and_restart([self.stack.processes[name] for name in SERVICES])
            else:
                with self.window("SIGKILL the second replica of every service"):
                    for replica in replicas:
                        replica.kill()
        finally:
            for replica in replicas:
                replica.stop()


def _kill_and_restart(processes: list[ServiceProcess]) -> None:
    for process in processes:
        process.kill()
    for process in processes:
        process.start()
    for process in processes:
        process.wait_ready()
