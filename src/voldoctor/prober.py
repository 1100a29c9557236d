"""The few writes voldoctor ever makes: its own scratch volumes and containers.

Each carries io.voldoctor.probe=1 and a name voldoctor gives, and is removed
by the caller's `finally`. Requests go through the daemon module's Collector
(the only docker import), under the same deadlines.
"""

from __future__ import annotations

import os
import time
from typing import Optional

from voldoctor.daemon import GRACE, Collector, classify, is_not_found, short
from voldoctor.daemon_facts import PROBE_LABEL, owner_gone, probe_labels, probe_name, provably_ours
from voldoctor.deadline import hard_deadline
from voldoctor.state import DaemonError, Endpoint





class Prober:
    """The few writes voldoctor ever makes: its own scratch volumes and
    containers, each labelled io.voldoctor.probe=1 and removed by the caller's
    `finally`. Errors surface as DaemonError values inside ProbeError."""

    def __init__(self, ep: Endpoint, timeout: float):
        self.ep = ep
        self.timeout = timeout
        self.col = Collector(ep, timeout)
        try:
            with hard_deadline(timeout + GRACE):
                self.col.connect()
        except Exception as e:
            self.col.close()
            raise ProbeError(classify(e, ep, timeout), e) from None
        self.api = self.col.client
        self.made_volumes: list[str] = []
        self.made_containers: list[str] = []

    def _fresh(self, seconds: Optional[float] = None):
        self.col.deadline = time.monotonic() + (seconds or self.timeout)

    def call(self, fn, *args, seconds: Optional[float] = None, **kwargs):
        self._fresh(seconds)
        try:
            with hard_deadline((seconds or self.timeout) + GRACE):
                return self.col._call(fn, *args, **kwargs)
        except Exception as e:
            raise ProbeError(classify(e, self.ep, seconds or self.timeout), e) from None

    def image_present(self, ref: str) -> bool:
        try:
            self.call(self.api.inspect_image, ref)
            return True
        except ProbeError as e:
            if is_not_found(e.cause):
                return False
            raise

    def pull(self, ref: str, seconds: float = 600) -> None:
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        self.call(self.api.pull, repo, tag=tag or "latest", seconds=seconds)

    def create_volume(self, name: str) -> str:
        self.made_volumes.append(name)
        self.call(self.api.create_volume, name, labels=probe_labels())
        return name

    def inspect_volume(self, name: str) -> dict:
        return self.call(self.api.inspect_volume, name)

    def run(self, image: str, script: str, *, binds: list[str], user: Optional[str] = None,
            seconds: float = 30) -> tuple[int, str]:
        """Run a shell script in a labelled container to its end; returns exit
        code and output, and removes the container."""
        hc = self.api.create_host_config(binds=binds, network_mode="none")
        # Named before it exists: an interrupt during the create still leaves a name to remove.
        cid = probe_name()
        self.made_containers.append(cid)
        self.call(self.api.create_container, image, [script], user=user, host_config=hc, name=cid,
                  labels=probe_labels(), entrypoint=["/bin/sh", "-c"], network_disabled=True)
        try:
            self.call(self.api.start, cid)
            code = self.call(self.api.wait, cid, seconds=seconds)["StatusCode"]
            logs = self.call(self.api.logs, cid).decode("utf-8", "replace")
            return int(code), logs
        finally:
            self.remove_container(cid)

    def remove_container(self, cid: str, *, force: bool = True) -> None:
        """Remove a container with its anonymous volumes. `force` (stop it
        first) only for what this run made itself."""
        try:
            self.call(self.api.remove_container, cid, force=force, v=True)
        except ProbeError as e:
            if not is_not_found(e.cause):
                raise
        if cid in self.made_containers:
            self.made_containers.remove(cid)

    def remove_volume(self, name: str) -> None:
        try:
            self.call(self.api.remove_volume, name)
        except ProbeError as e:
            if not is_not_found(e.cause):
                raise
        if name in self.made_volumes:
            self.made_volumes.remove(name)

    def cleanup(self, interrupted: bool = False) -> list[str]:
        """Remove everything this prober made; returns what could not be removed.
        An interrupted request may have left the old connection half-read, so
        the removals go through a fresh one."""
        left = []
        if self.made_containers or self.made_volumes:
            self.col.close()
            self.col = Collector(self.ep, self.timeout)
            try:
                self.col.connect()
            except Exception as e:  # noqa: BLE001 - the daemon went away; the label lets a later run clean up
                return [f"{n} ({short(e)})" for n in [*self.made_containers, *self.made_volumes]]
            self.api = self.col.client
        # An interrupted create or start may still be finishing inside the daemon
        # ("removal already in progress", "volume is in use"): try a few rounds.
        for attempt in range(4):
            left = []
            for cid in list(self.made_containers):
                try:
                    self.remove_container(cid)
                except Exception as e:  # keep going: every object gets its chance
                    left.append(f"container {cid[:12]} ({short(e)})")
            for v in list(self.made_volumes):
                try:
                    self.remove_volume(v)
                except Exception as e:
                    left.append(f"volume {v} ({short(e)})")
            if not left:
                break
            time.sleep(0.25 * (attempt + 1))
        if not (interrupted or left):
            return left
        # A create that was interrupted may still finish inside the daemon after
        # we tried to remove it: sweep whatever carries this run's pid.
        time.sleep(0.2)
        for _ in range(3):
            try:
                left = self._sweep_own()
            except Exception as e:  # noqa: BLE001 - reported; the label lets a later run clean up
                left = [f"objects of this run ({short(e)})"]
            if not left:
                break
            time.sleep(0.3)
        return left

    def _sweep_own(self) -> list[str]:
        """Remove what this run made that a list still shows (a create that
        finished after an interrupt); return what is still there."""
        flt = {"label": f"{PROBE_LABEL}.pid={os.getpid()}"}
        left = []
        for c in self.call(self.api.containers, all=True, filters=flt):
            name = (c.get("Names") or ["?"])[0].lstrip("/")
            if not provably_ours(name, c.get("Labels") or {}):
                continue
            try:
                self.remove_container(c["Id"])
            except ProbeError as e:
                left.append(f"container {name} ({short(e)})")
        for v in (self.call(self.api.volumes, filters=flt) or {}).get("Volumes") or []:
            if not provably_ours(v["Name"], v.get("Labels") or {}):
                continue
            try:
                self.remove_volume(v["Name"])
            except ProbeError as e:
                left.append(f"volume {v['Name']} ({short(e)})")
        return left

    def stale(self, older_than: float) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """Objects labelled as voldoctor's that no live run of ours owns.
        Returns (removable, doubtful), each a list of (kind, name, why).
        Removable: provably ours (name shape and labels), made by a run known
        to be dead or longer ago than `older_than`, and, for a container, not
        running. Everything else carrying the label is doubtful: reported,
        never removed."""
        removable, doubtful = [], []
        now = time.time()
        flt = {"label": f"{PROBE_LABEL}=1"}
        for c in self.call(self.api.containers, all=True, filters=flt):
            name = (c.get("Names") or [c["Id"][:12]])[0].lstrip("/")
            labels = c.get("Labels") or {}
            old = owner_gone(labels) or now - int(c.get("Created") or 0) >= older_than
            if not provably_ours(name, labels):
                doubtful.append(("container", name, "carries voldoctor's label but not a name voldoctor gives"))
            elif (c.get("State") or "") in ("running", "restarting", "paused"):
                if old:
                    doubtful.append(("container", name, f"is {c.get('State')}; voldoctor never stops what it "
                                     "did not start in this run"))
            elif old:
                removable.append(("container", name, "left by an earlier run"))
        for v in (self.call(self.api.volumes, filters=flt) or {}).get("Volumes") or []:
            labels = v.get("Labels") or {}
            created = _parse_time(v.get("CreatedAt") or "")
            old = owner_gone(labels) or created is None or now - created >= older_than
            if not provably_ours(v["Name"], labels):
                doubtful.append(("volume", v["Name"], "carries voldoctor's label but not a name voldoctor gives"))
            elif old:
                removable.append(("volume", v["Name"], "left by an earlier run"))
        return removable, doubtful

    def remove_stale(self, older_than: float) -> tuple[list[str], list[str]]:
        """Remove the leftovers of earlier, interrupted runs that are provably
        ours; returns (removed, kept-with-reason). A container is removed
        without force, so a running one is never stopped; a volume still in
        use stays."""
        removable, doubtful = self.stale(older_than)
        removed, kept = [], [f"{k} {n} ({why})" for k, n, why in doubtful]
        for kind, name, _ in removable:
            try:
                if kind == "container":
                    self.remove_container(name, force=False)
                else:
                    self.remove_volume(name)
                removed.append(f"{kind} {name}")
            except ProbeError as e:
                kept.append(f"{kind} {name} ({short(e)})")
        return removed, kept

    def close(self):
        self.col.close()


class ProbeError(Exception):
    def __init__(self, error: DaemonError, cause: BaseException):
        self.error = error
        self.cause = cause
        super().__init__(error.detail)


def _parse_time(text: str) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
