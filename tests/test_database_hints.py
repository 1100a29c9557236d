"""Database hints name the database the container actually runs."""

from __future__ import annotations

import pytest

from support import snapshot
from voldoctor import engine, rules

RS = rules.load()


def _as(image: str, env: tuple[str, ...]):
    st = snapshot("already-initialized")
    cs = []
    for c in st.containers:
        if c.name == "vdt-db":
            c = c.model_copy(update={"image": image, "detail": c.detail.model_copy(update={"init_env": env})})
        cs.append(c)
    return st.model_copy(update={"containers": tuple(cs)})


def _fix(image, env):
    a = engine.answer("changed the password but it is not accepted", RS, lambda pick: _as(image, env),
                      container="vdt-db")
    d = next(x for x in a.diagnoses if x.rule == "volume-already-initialized")
    return " ".join(d.fix)


@pytest.mark.parametrize("image,env,tool", [
    ("postgres:16", ("POSTGRES_PASSWORD",), "psql"),
    ("mysql:8", ("MYSQL_ROOT_PASSWORD",), "mysql -u root"),
    ("library/mariadb:11", ("MARIADB_ROOT_PASSWORD",), "mariadb -u root"),
    ("mongo:7", ("MONGO_INITDB_ROOT_PASSWORD",), "mongosh"),
])
def test_the_hint_is_the_database_in_use(image, env, tool):
    fix = _fix(image, env)
    assert tool in fix
    for other in {"psql", "mysql -u root", "mariadb -u root", "mongosh"} - {tool}:
        assert other not in fix, (other, fix)


@pytest.mark.parametrize("image,env", [("vdt-busybox:latest", ("MYSQL_ROOT_PASSWORD",)),
                                       ("myapp:1", ("POSTGRES_PASSWORD",)),
                                       ("mysql:8", ("POSTGRES_PASSWORD",))])
def test_no_database_hint_for_an_image_that_is_not_that_database(image, env):
    fix = _fix(image, env)
    assert not any(t in fix for t in ("psql", "mysql -u", "mariadb -u", "mongosh")), fix
    assert "read only on the first start" in fix
