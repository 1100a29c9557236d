"""A pack's examples: small daemon states on which a given step must be the
current one. A pack whose examples disagree with it does not load."""

from __future__ import annotations

from voldoctor.lab.pack import Example, Pack, split_mount
from voldoctor.lab.progress import Looks, evaluate
from voldoctor.state import Container, ContainerDetail, DaemonState, Endpoint, Mount, Port, Volume


def example_state(pack: Pack, ex: Example) -> tuple[DaemonState, Looks]:
    vols = tuple(Volume(name=pack.fill(v), mountpoint=f"/example/volumes/{pack.fill(v)}/_data") for v in ex.volumes)
    conts = []
    for i, c in enumerate(ex.containers):
        ms = []
        for spec in c.mounts:
            name, path = split_mount(pack.fill(spec))
            ms.append(Mount(type="volume", name=name, source=f"/example/volumes/{name}/_data", destination=path))
        conts.append(Container(id=f"{i:064x}", name=f"example_{i}", image=pack.fill(c.image),
                               state="running" if c.running else "exited", created=c.created, mounts=tuple(ms),
                               ports=tuple(Port(private=80, public=p) for p in c.ports),
                               detail=ContainerDetail(user=c.user)))
    state = DaemonState(endpoint=Endpoint(url="unix:///example.sock"), reachable=True, volumes=vols,
                        containers=tuple(conts), replay=True)
    names = {v.name for v in vols}
    files = {pack.fill(k): v for k, v in ex.files.items()}
    oldest = {v: None for v in names}
    oldest.update({pack.fill(k): float(t) for k, t in ex.data_since.items()})
    return state, Looks(visible=frozenset(names), oldest=oldest, files=files)


def disagreements(pack: Pack) -> list[tuple[int, str]]:
    """(example number, what went differently) for every example that disagrees."""
    out = []
    for i, ex in enumerate(pack.examples, 1):
        state, looks = example_state(pack, ex)
        got = evaluate(pack, state, looks, reached=ex.reached or None).current or ""
        if got != ex.current:
            out.append((i, f"expects current step {ex.current or '(none: all done)'!r} but the pack says "
                           f"{got or '(none: all done)'!r}"))
    return out
