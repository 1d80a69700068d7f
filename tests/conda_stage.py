"""Render recipe/meta.yaml as conda-build does, and run recipe/build.sh in a staged prefix.

conda-build cannot run on a machine with no conda channel, and nothing here pretends
to be it. This module reproduces the two parts of its work that need no channel, so
tests/test_recipe.py can check them in the normal test suite:

* Rendering (`render`): conda-build's order of operations for one variant. Selector
  comments are evaluated first (conda-build's own `sel_pat` and evaluation rule: an
  unknown name counts as False), then Jinja2 renders the text with conda-build's
  functions, then selectors again, then YAML with numbers kept as strings. The
  Jinja functions are stand-ins that compute what conda-build's do, fed by
  `PINNING`, a recorded excerpt of conda-forge's global pinning, merged with the
  recipe's own conda_build_config.yaml.
* Building (`StagedBuild`): build.sh run by bash with the variables conda-build
  sets, in a fresh virtual environment standing in for the host prefix, with the
  Go toolchain exposed in a BUILD_PREFIX as conda's go-cgo would. The files that
  the build adds to the prefix are what conda-build would package.

What this cannot show, and only CI's real `conda build` (.github/workflows/conda.yml)
shows: that conda can solve the requirements, that conda-forge's compilers and
activation scripts build the library, relocation, run_exports, and macOS.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipe"

# An excerpt of conda-forge's global pinning (conda-forge-pinning-feedstock,
# recipe/conda_build_config.yaml), recorded by hand: only the keys that this
# recipe's compiler() and stdlib() calls read, with values of late 2025. They are
# stand-ins; the render tests check the recipe's shape and its own overrides,
# not these numbers.
PINNING: dict[str, dict[str, str]] = {
    "linux-64": {
        "c_compiler": "gcc",
        "c_compiler_version": "14",
        "c_stdlib": "sysroot",
        "c_stdlib_version": "2.17",
        "python": "3.12.* *_cpython",
    },
    "osx-64": {
        "c_compiler": "clang",
        "c_compiler_version": "19",
        "c_stdlib": "macosx_deployment_target",
        "c_stdlib_version": "10.13",
        "MACOSX_SDK_VERSION": "10.13",
        "python": "3.12.* *_cpython",
    },
    "osx-arm64": {
        "c_compiler": "clang",
        "c_compiler_version": "19",
        "c_stdlib": "macosx_deployment_target",
        "c_stdlib_version": "11.0",
        "MACOSX_SDK_VERSION": "11.0",
        "python": "3.12.* *_cpython",
    },
    "win-64": {
        "c_compiler": "vs2022",
        "c_stdlib": "vs",
        "c_stdlib_version": "2022",
        "m2w64_c_compiler": "gcc",
        "m2w64_c_stdlib": "m2w64-sysroot",
        "m2w64_c_stdlib_version": "12",
        "python": "3.12.* *_cpython",
    },
}

# conda-build's DEFAULT_COMPILERS for the languages a recipe might name without a
# variant key; any other language is its own compiler name ("go-cgo").
_NATIVE_COMPILERS = {
    "linux": {"c": "gcc", "cxx": "gxx", "fortran": "gfortran"},
    "osx": {"c": "clang", "cxx": "clangxx", "fortran": "gfortran"},
    "win": {"c": "vs2017", "cxx": "vs2017", "fortran": "gfortran"},
}

# conda_build.metadata.sel_pat: a selector ends the line, or sits in a comment.
SEL_PAT = re.compile(r"(.+?)\s*(#.*)?\[([^\[\]]+)\](?(2)[^\(\)]*)$")
_NON_X86_MACHINES = ("armv6l", "armv7l", "ppc64", "ppc64le", "s390x", "aarch64", "arm64", "riscv64")


def selectors(target_platform: str, build_platform: str, variant: dict) -> dict:
    """conda_build.metadata.get_selectors for one variant (without os.environ's keys)."""
    plat = target_platform
    ns: dict = dict(
        linux=plat.startswith("linux-"),
        linux32=plat == "linux-32",
        linux64=plat == "linux-64",
        arm=plat.startswith("linux-arm"),
        osx=plat.startswith("osx-"),
        unix=plat.startswith(("linux-", "osx-")),
        win=plat.startswith("win-"),
        win32=plat == "win-32",
        win64=plat == "win-64",
        x86=plat.endswith(("-32", "-64")),
        x86_64=plat.endswith("-64"),
        os=os,
        environ={},
        nomkl=False,
        build_platform=build_platform,
    )
    py = int("".join(variant["python"].split(" ")[0].split(".")[:2]))
    ns.update(py=py, py3k=30 <= py < 40, py2k=20 <= py < 30)
    for machine in _NON_X86_MACHINES:
        ns[machine] = plat.endswith("-" + machine)
    for key, value in variant.items():
        if key not in ns:
            try:
                ns[key] = int(value)
            except (TypeError, ValueError):
                ns[key] = value
    return ns


def _eval_selector(expr: str, ns: dict) -> bool:
    # conda-build's rule: a name the namespace lacks is replaced by False.
    while True:
        try:
            return bool(eval(expr, dict(ns), {}))  # noqa: S307 - recipe text from this repo
        except NameError as e:
            missing = re.search(r"'(.+?)'", str(e)).group(1)
            expr = expr.replace(missing, "False")


def select_lines(text: str, ns: dict) -> str:
    """conda_build.metadata.select_lines: drop comment lines and lines whose selector is false."""
    out = []
    for line in text.splitlines():
        line = line.rstrip()
        trailing_quote = line[-1] if line and line[-1] in "'\"" else ""
        if line.lstrip().startswith("#"):
            continue
        m = SEL_PAT.match(line)
        if m:
            if _eval_selector(m.group(3), ns):
                out.append(m.group(1) + trailing_quote)
        else:
            out.append(line)
    return "\n".join(out) + "\n"


class _StringNumbersLoader(yaml.SafeLoader):
    """conda-build's stringify_numbers: `version: 1.10` stays the string "1.10"."""


_StringNumbersLoader.yaml_implicit_resolvers = {
    ch: resolvers
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if ch not in "0123456789"
}


def load_yaml(text: str):
    return yaml.load(text, Loader=_StringNumbersLoader)


def _apply_pin(version: str, min_pin: str, max_pin: str) -> str:
    # conda_build.utils.apply_pin_expressions, for plain dotted versions.
    parts = version.split(".")
    lower = ".".join(parts[: min_pin.count("x")])
    n = max_pin.count("x")
    upper = parts[:n]
    upper[-1] = str(int(upper[-1]) + 1)
    return f">={lower},<{'.'.join(upper)}.0a0"


@dataclass
class Render:
    """One rendered variant: the parsed recipe and the variant it was rendered with."""

    target_platform: str
    build_platform: str
    variant: dict
    meta: dict
    text: str  # the rendered YAML text

    def reqs(self, section: str) -> list[str]:
        return list((self.meta.get("requirements") or {}).get(section) or [])


# Versions that pin_compatible() would find installed in the host prefix. The
# recipe uses no pin_compatible today; these make a future use render.
HOST_VERSIONS = {"python": "3.12.0", "numpy": "2.0.0"}


def render(target_platform: str, build_platform: str | None = None, src_dir: Path = REPO) -> Render:
    build_platform = build_platform or target_platform
    variant = dict(PINNING[target_platform])
    variant["target_platform"] = target_platform
    ns = selectors(target_platform, build_platform, variant)
    # The recipe's conda_build_config.yaml overrides the global pinning (first value
    # of each key: one variant).
    cbc_path = RECIPE / "conda_build_config.yaml"
    if cbc_path.exists():
        cbc = load_yaml(select_lines(cbc_path.read_text(), ns)) or {}
        for key, values in cbc.items():
            if key in ("zip_keys", "pin_run_as_build"):
                continue
            variant[key] = values[0] if isinstance(values, list) else values
        ns = selectors(target_platform, build_platform, variant)

    def compiler(language: str) -> str:
        family = target_platform.split("-")[0]
        name = variant.get(
            f"{language}_compiler", _NATIVE_COMPILERS[family].get(language, language)
        )
        spec = f"{name}_{target_platform}"
        version = variant.get(f"{language}_compiler_version")
        return f"{spec} {version}" if version else spec

    def stdlib(language: str) -> str:
        name = variant.get(f"{language}_stdlib")
        if not name:
            raise jinja2.UndefinedError(f"no {language}_stdlib in the variant")
        spec = f"{name}_{target_platform}"
        version = variant.get(f"{language}_stdlib_version")
        return f"{spec} {version}" if version else spec

    def pin_compatible(
        name, lower_bound=None, upper_bound=None, min_pin="x.x.x.x.x.x", max_pin="x", exact=False
    ):
        version = lower_bound or HOST_VERSIONS[name]
        if exact:
            return f"{name} {version}"
        if upper_bound:
            return f"{name} >={version},<{upper_bound}"
        return f"{name} {_apply_pin(version, min_pin, max_pin)}"

    def pin_subpackage(name, min_pin="x.x.x.x.x.x", max_pin="x", exact=False):
        return name

    def _find(filename: str, from_recipe_dir: bool) -> Path:
        path = (RECIPE if from_recipe_dir else src_dir) / filename
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {filename!r}")
        return path

    def load_file_data(filename, fmt=None, from_recipe_dir=False, recipe_dir=None):
        path = _find(filename, from_recipe_dir)
        fmt = (fmt or path.suffix.lstrip(".")).lower()
        text = path.read_text()
        if fmt == "toml":
            return tomllib.loads(text)
        if fmt == "json":
            return json.loads(text)
        if fmt in ("yaml", "yml"):
            return yaml.safe_load(text)
        raise ValueError(f"Unknown file format: {fmt}")

    def load_file_regex(load_file, regex_pattern, from_recipe_dir=False, recipe_dir=None):
        return re.search(regex_pattern, _find(load_file, from_recipe_dir).read_text())

    def cdt(name):
        return f"{name}-cos7-x86_64"

    ctx = dict(ns)
    ctx.update(
        compiler=compiler,
        stdlib=stdlib,
        pin_compatible=pin_compatible,
        pin_subpackage=pin_subpackage,
        load_file_data=load_file_data,
        load_file_regex=load_file_regex,
        cdt=cdt,
        environ={},
        target_platform=target_platform,
        build_platform=build_platform,
    )
    text = select_lines((RECIPE / "meta.yaml").read_text(), ns)
    # The final render pass of conda-build is strict: an undefined name is an error.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    rendered = select_lines(env.from_string(text).render(**ctx), ns)
    return Render(target_platform, build_platform, variant, load_yaml(rendered) or {}, rendered)


# --------------------------------------------------------------------------- staged build


def source_files(repo: Path = REPO) -> list[str]:
    """The source tree as a fresh checkout would hold it (tracked plus untracked, not ignored)."""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [p for p in out.decode().split("\0") if p and (repo / p).is_file()]


# Build artefacts a work tree may hold but a fresh source copy never does: the built
# library, the header cgo writes beside it, caches. (go/capi's committed header stays.)
_ARTEFACT_PATTERNS = (
    "*.so",
    "*.dylib",
    "*.pyd",
    "_checksig*.h",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
)
_BUILD_ARTEFACTS = shutil.ignore_patterns(".git", "build", "dist", *_ARTEFACT_PATTERNS)


def _is_artefact(rel: str) -> bool:
    return any(fnmatch.fnmatch(part, pat) for part in rel.split("/") for pat in _ARTEFACT_PATTERNS)


def copy_source(dest: Path, repo: Path = REPO) -> Path:
    files = source_files(repo)
    if not files:  # not a git checkout: copy the tree without build artefacts
        shutil.copytree(repo, dest, ignore=_BUILD_ARTEFACTS)
        return dest
    for rel in (f for f in files if not _is_artefact(f)):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target)
    return dest


def find_go() -> str | None:
    """The Go toolchain the tests would use: CHECKSIG_GO, else go on PATH."""
    go = os.environ.get("CHECKSIG_GO") or shutil.which("go")
    return str(Path(go).resolve()) if go else None


def go_version(go: str) -> tuple[int, ...]:
    out = subprocess.run(
        [go, "env", "GOVERSION"], check=True, capture_output=True, text=True
    ).stdout
    m = re.match(r"go(\d+)\.(\d+)(?:\.(\d+))?", out.strip())
    return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)


# conda-forge's linux-64 compiler flags (the gcc activation scripts), recorded.
CONDA_CFLAGS = (
    "-march=nocona -mtune=haswell -ftree-vectorize -fPIC -fstack-protector-strong -fno-plt -O2 "
    "-ffunction-sections -pipe -isystem {prefix}/include"
)
CONDA_CPPFLAGS = "-DNDEBUG -D_FORTIFY_SOURCE=2 -O2 -isystem {prefix}/include"
CONDA_LDFLAGS = (
    "-Wl,-O2 -Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -Wl,--disable-new-dtags "
    "-Wl,--gc-sections -Wl,--allow-shlib-undefined -Wl,-rpath,{prefix}/lib "
    "-Wl,-rpath-link,{prefix}/lib -L{prefix}/lib"
)


def _write_exe(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@dataclass
class StagedBuild:
    """A conda-build-like layout under `root`: work/ (SRC_DIR), _build_env/ (BUILD_PREFIX),
    _h_env/ (PREFIX, a venv of the host requirements) and test_tmp/."""

    root: Path
    go: str
    python: str = sys.executable
    src: Path = field(init=False)
    build_prefix: Path = field(init=False)
    prefix: Path = field(init=False)

    def __post_init__(self):
        self.src = self.root / "work"
        self.build_prefix = self.root / "_build_env"
        self.prefix = self.root / "_h_env"

    # -- layout ------------------------------------------------------------------------
    @property
    def env_python(self) -> Path:
        return self.prefix / "bin" / "python"

    def venv_paths(self) -> dict:
        code = (
            "import json, sysconfig; print(json.dumps({"
            "'purelib': sysconfig.get_path('purelib'), "
            "'ext': sysconfig.get_config_var('EXT_SUFFIX'), "
            "'ver': sysconfig.get_python_version()}))"
        )
        return json.loads(
            subprocess.run(
                [str(self.env_python), "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )

    def create(self, host_requirements: list[str]) -> None:
        copy_source(self.src)
        # BUILD_PREFIX/bin holds what conda's build env would: go (go-cgo puts the real
        # binary under $BUILD_PREFIX/go/bin and links it into bin/) and the C
        # compiler under its conda name.
        bindir = self.build_prefix / "bin"
        bindir.mkdir(parents=True)
        (bindir / "go").symlink_to(self.go)
        cc = shutil.which("cc") or shutil.which("gcc") or "cc"
        # A wrapper, not a symlink: gcc finds its own helpers from argv[0].
        _write_exe(
            bindir / "x86_64-conda-linux-gnu-cc", f'#!/bin/sh\nexec {shlex.quote(cc)} "$@"\n'
        )
        subprocess.run([self.python, "-m", "venv", str(self.prefix)], check=True)
        reqs = [r for r in host_requirements if r.split()[0] != "python"]
        if reqs:
            # Host requirements come from PyPI here (conda would solve them from
            # conda-forge); the build itself then runs with the index switched off.
            subprocess.run(
                [
                    str(self.env_python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    *_pip_specs(reqs),
                ],
                check=True,
            )

    def environ(self, recipe_meta: dict, extra: dict | None = None) -> dict:
        paths = self.venv_paths()
        pkg = recipe_meta["package"]
        env = {
            # What conda-build exports to build.sh (conda_build/environ.py), for linux-64.
            "PREFIX": str(self.prefix),
            "BUILD_PREFIX": str(self.build_prefix),
            "SRC_DIR": str(self.src),
            "RECIPE_DIR": str(RECIPE),
            "PYTHON": str(self.env_python),
            "SP_DIR": paths["purelib"],
            "PY_VER": paths["ver"],
            "PKG_NAME": str(pkg["name"]),
            "PKG_VERSION": str(pkg["version"]),
            "PKG_BUILDNUM": str(recipe_meta["build"]["number"]),
            "CPU_COUNT": str(os.cpu_count() or 1),
            "CC": str(self.build_prefix / "bin" / "x86_64-conda-linux-gnu-cc"),
            "CONDA_BUILD": "1",
            "target_platform": "linux-64",
            "build_platform": "linux-64",
            "SHLIB_EXT": ".so",
            "PIP_NO_INDEX": "True",
            "PIP_NO_DEPENDENCIES": "True",
            "PIP_IGNORE_INSTALLED": "True",
            "PIP_NO_BUILD_ISOLATION": "False",  # pip's spelling of "no isolation"
            "PIP_CACHE_DIR": str(self.root / "pip_cache"),
            "PYTHONNOUSERSITE": "1",
            # What conda-forge's gcc activation sets for linux-64 (recorded), and what
            # go-cgo's activation derives from it: cgo compiles and links with these.
            "CFLAGS": CONDA_CFLAGS.format(prefix=self.prefix),
            "CPPFLAGS": CONDA_CPPFLAGS.format(prefix=self.prefix),
            "LDFLAGS": CONDA_LDFLAGS.format(prefix=self.prefix),
            "CGO_CFLAGS": CONDA_CFLAGS.format(prefix=self.prefix),
            "CGO_CPPFLAGS": CONDA_CPPFLAGS.format(prefix=self.prefix),
            "CGO_LDFLAGS": CONDA_LDFLAGS.format(prefix=self.prefix),
            # What go-cgo's activation and build.sh's own exports ensure; set here as
            # well so the build is offline even if build.sh stopped setting them.
            "CGO_ENABLED": "1",
            "GOPROXY": "off",
            "GOFLAGS": "-trimpath -buildvcs=false -mod=readonly",
            "GOTOOLCHAIN": "local",
            "PATH": os.pathsep.join(
                [str(self.build_prefix / "bin"), str(self.prefix / "bin"), "/usr/bin", "/bin"]
            ),
            "HOME": os.environ.get("HOME", str(self.root)),
            "LANG": "C.UTF-8",
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        }
        # Reuse the caller's Go build cache (only the results of identical compiles).
        for key in ("GOCACHE",):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra or {})
        return env

    def snapshot(self) -> set[str]:
        return {
            str(p.relative_to(self.prefix))
            for p in self.prefix.rglob("*")
            if p.is_file() or p.is_symlink()
        }

    def run_build(
        self, env: dict, script: Path = RECIPE / "build.sh"
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(script)],
            cwd=self.src,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def run_tests(self, recipe_meta: dict) -> subprocess.CompletedProcess:
        """The recipe's test section as conda-build runs it: imports through a run_test.py,
        then the commands under `set -ex`, in a fresh directory holding test/files."""
        test = recipe_meta.get("test") or {}
        tmp = self.root / "test_tmp"
        tmp.mkdir()
        for rel in test.get("files") or []:
            src = RECIPE / rel
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp / rel)
        lines = ["set -ex"]
        imports = test.get("imports") or []
        if imports:
            (tmp / "run_test.py").write_text("".join(f"import {name}\n" for name in imports))
            lines.append(f"{shlex.quote(str(self.env_python))} -s run_test.py")
        lines += list(test.get("commands") or [])
        (tmp / "conda_test_runner.sh").write_text("\n".join(lines) + "\n")
        env = {
            "PREFIX": str(self.prefix),
            "PATH": os.pathsep.join([str(self.prefix / "bin"), "/usr/bin", "/bin"]),
            "HOME": os.environ.get("HOME", str(self.root)),
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "PIP_NO_INDEX": "True",
        }
        return subprocess.run(
            ["bash", "conda_test_runner.sh"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )


def _pip_specs(conda_specs: list[str]) -> list[str]:
    """Conda match specs ("numpy >=1.22") as pip requirements ("numpy>=1.22")."""
    out = []
    for spec in conda_specs:
        name, _, rest = spec.partition(" ")
        rest = rest.strip()
        if rest and rest[0].isdigit():  # a bare conda version: "1.2.*" or "1.2"
            rest = "==" + rest
        out.append(name + rest.replace(" ", ""))
    return out
