"""Audit the installed distributions against PyPI's advisories, through the project-level JSON API.

``pip-audit`` cannot work from our network: PyPI's per-release endpoint (``/pypi/NAME/VERSION/json``)
answers 404 and ``api.osv.dev`` does not resolve. The project endpoint (``/pypi/NAME/json``) does
answer, and carries ``vulnerabilities``: PyPI's advisories (from OSV / PyPA) for the project's
*latest* release. So:

* installed == latest: every advisory listed that is not withdrawn makes it vulnerable;
* installed != latest: the listed advisories are those of the latest release, so one counts against
  the installed version when a ``fixed_in`` is above it (or none is known), unless a fix of the
  installed version's own release series is at or below it. That is conservative: the advisory may
  have been introduced after the installed version;
* a project PyPI does not know (404) cannot be audited and is listed.

Exit status: 0 clean, 1 vulnerable, 2 PyPI could not be reached (or some projects could not be
fetched), so the audit did not run completely.

Usage: ``python tools/dependency_audit.py [--ignore ID]... [--index-url URL] [--retries N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from importlib import metadata

import httpx
from packaging.version import InvalidVersion, Version

DEFAULT_INDEX_URL = "https://pypi.org/pypi"
# The editable checkout itself is not a PyPI release of anything.
PROJECT_NAME = "helpline"
CONCURRENCY = 16
TIMEOUT_SECONDS = 20.0
RETRIES = 3


@dataclass(frozen=True)
class Installed:
    """One installed distribution: its name as declared and its version string."""

    name: str
    version: str


@dataclass(frozen=True)
class Advisory:
    """One entry of a PyPI project's ``vulnerabilities`` list."""

    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    withdrawn: bool
    summary: str


class Status(Enum):
    """What the audit could say about one distribution."""

    LATEST = "latest"
    NOT_LATEST = "not latest"
    UNKNOWN = "not on PyPI"
    ERROR = "could not fetch"


@dataclass(frozen=True)
class Result:
    """The audit of one installed distribution.

    Attributes:
        installed: The distribution audited.
        status: Whether its version is PyPI's latest, another one, unknown to PyPI, or not fetched.
        latest: PyPI's latest version, when known.
        findings: Advisories that apply (not withdrawn, not ignored).
        ignored: Advisories that would apply but were accepted with ``--ignore``.
        conservative: The findings come from the latest release's advisories applied to an older one.
        error: Why the project's JSON could not be fetched (status ``ERROR``).

    """

    installed: Installed
    status: Status
    latest: str | None = None
    findings: tuple[Advisory, ...] = ()
    ignored: tuple[Advisory, ...] = ()
    conservative: bool = False
    error: str = ""

    @property
    def vulnerable(self) -> bool:
        """Whether at least one advisory applies to the installed version."""
        return bool(self.findings)


class _NotFound(Exception):
    """PyPI answered 404 for the project."""


def normalize(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> list[Installed]:
    """The distributions of the running environment, minus editable installs and Helpline itself.

    A name found twice on ``sys.path`` is kept once: the first, which is the one imported.
    """
    seen: set[str] = set()
    found: list[Installed] = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = normalize(name)
        if key in seen or key == PROJECT_NAME or _is_editable(dist):
            continue
        seen.add(key)
        found.append(Installed(name, dist.version))
    return sorted(found, key=lambda item: normalize(item.name))


def _is_editable(dist: metadata.Distribution) -> bool:
    raw = dist.read_text("direct_url.json")
    if not raw:
        return False
    try:
        info = json.loads(raw)
    except ValueError:
        return False
    return bool(isinstance(info, dict) and info.get("dir_info", {}).get("editable"))


def parse_advisories(raw: object) -> tuple[Advisory, ...]:
    """The advisories of a project JSON's ``vulnerabilities`` value (malformed entries skipped)."""
    if not isinstance(raw, list):
        return ()
    advisories: list[Advisory] = []
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        details = str(entry.get("summary") or entry.get("details") or "").strip()
        advisories.append(
            Advisory(
                id=str(entry["id"]),
                aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
                fixed_in=tuple(str(version) for version in entry.get("fixed_in") or ()),
                withdrawn=bool(entry.get("withdrawn")),
                summary=details.splitlines()[0][:160] if details else "",
            )
        )
    return tuple(advisories)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def applies_to_older(advisory: Advisory, installed: str) -> bool:
    """Whether an advisory of the latest release counts against another installed version.

    It does when no fix is known, or when a fix is above the installed version and no fix of the
    installed version's own series (same major.minor, a backport) is at or below it. An
    unparseable version is counted as affected.
    """
    mine = _version(installed)
    fixes = [version for version in (_version(text) for text in advisory.fixed_in) if version is not None]
    if mine is None or not fixes:
        return True
    if any(fix <= mine and fix.release[:2] == mine.release[:2] for fix in fixes):
        return False
    return any(fix > mine for fix in fixes)


def judge(installed: Installed, document: dict[str, object], ignore: frozenset[str]) -> Result:
    """The audit of one installed distribution from its project's PyPI JSON."""
    info = document.get("info")
    latest = str(info.get("version", "")) if isinstance(info, dict) else ""
    advisories = [item for item in parse_advisories(document.get("vulnerabilities")) if not item.withdrawn]
    mine, theirs = _version(installed.version), _version(latest)
    is_latest = mine == theirs if mine is not None and theirs is not None else installed.version == latest
    if is_latest:
        applying = advisories
    else:
        applying = [item for item in advisories if applies_to_older(item, installed.version)]
    findings = tuple(item for item in applying if not ignore & {item.id, *item.aliases})
    ignored = tuple(item for item in applying if ignore & {item.id, *item.aliases})
    return Result(
        installed=installed,
        status=Status.LATEST if is_latest else Status.NOT_LATEST,
        latest=latest or None,
        findings=findings,
        ignored=ignored,
        conservative=not is_latest and bool(findings),
    )


async def _fetch(client: httpx.AsyncClient, index_url: str, name: str, retries: int) -> dict[str, object]:
    url = f"{index_url.rstrip('/')}/{normalize(name)}/json"
    for attempt in range(retries + 1):
        try:
            response = await client.get(url)
        except httpx.TransportError:
            if attempt == retries:
                raise
        else:
            if response.status_code == 404:
                raise _NotFound(name)
            if response.status_code < 500 and response.status_code != 429:
                response.raise_for_status()
                document = response.json()
                if not isinstance(document, dict):
                    raise ValueError(f"{url}: not a JSON object")
                return document
            if attempt == retries:
                response.raise_for_status()
        await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def audit(
    installed: Sequence[Installed],
    index_url: str = DEFAULT_INDEX_URL,
    ignore: Iterable[str] = (),
    *,
    concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT_SECONDS,
    retries: int = RETRIES,
) -> list[Result]:
    """Audit ``installed`` against the project JSON served under ``index_url``.

    Args:
        installed: The distributions to audit.
        index_url: Base of the JSON API; a project's document is ``{index_url}/{name}/json``.
        ignore: Advisory ids (or aliases) reviewed and accepted.
        concurrency: At most this many requests at once.
        timeout: Seconds per request.
        retries: Further attempts after a network error, a 5xx or a 429.

    Returns:
        One result per distribution, in the order given. A project that could not be fetched has
        status ``ERROR``; none is ever reported clean without its advisories having been read.

    """
    accepted = frozenset(ignore)
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(client: httpx.AsyncClient, dist: Installed) -> Result:
        nonlocal done
        async with gate:
            try:
                document = await _fetch(client, index_url, dist.name, retries)
                result = judge(dist, document, accepted)
            except _NotFound:
                result = Result(dist, Status.UNKNOWN)
            except (httpx.HTTPError, ValueError) as error:
                result = Result(dist, Status.ERROR, error=f"{type(error).__name__}: {error}")
        done += 1
        if done % 20 == 0 or done == len(installed):
            print(f"dependency-audit: {done}/{len(installed)} projects fetched", file=sys.stderr, flush=True)
        return result

    headers = {"User-Agent": "helpline-dependency-audit", "Accept": "application/json"}
    async with httpx.AsyncClient(timeout=timeout, headers=headers, follow_redirects=True) as client:
        return list(await asyncio.gather(*(one(client, dist) for dist in installed)))


def _describe(advisory: Advisory) -> str:
    aliases = ", ".join(advisory.aliases) or "none"
    fixed = ", ".join(advisory.fixed_in) or "no fixed version"
    text = f"    {advisory.id} (aliases: {aliases}; fixed in: {fixed})"
    return f"{text}\n      {advisory.summary}" if advisory.summary else text


def report(results: Sequence[Result], index_url: str) -> int:
    """Print the audit on stdout and return the exit status (0 clean, 1 vulnerable, 2 incomplete)."""
    errors = [result for result in results if result.status is Status.ERROR]
    if results and len(errors) == len(results):
        print(
            f"dependency-audit: PyPI cannot be reached at {index_url} ({errors[0].error}).\n"
            "No distribution was audited. Check the network, DNS and proxy (HTTPS_PROXY) of this machine,\n"
            "or pass --index-url with a mirror that serves PyPI's JSON API (/NAME/json), then run it again."
        )
        return 2
    vulnerable = [result for result in results if result.vulnerable]
    not_latest = [result for result in results if result.status is Status.NOT_LATEST]
    unknown = [result for result in results if result.status is Status.UNKNOWN]
    audited = [result for result in results if result.status in (Status.LATEST, Status.NOT_LATEST)]
    for result in vulnerable:
        dist = result.installed
        print(f"VULNERABLE {dist.name} {dist.version}")
        if result.conservative:
            print(
                f"    (conservative: these are the advisories of the latest release {result.latest}, "
                f"with a fix above {dist.version}; the flaw may postdate {dist.version})"
            )
        for advisory in result.findings:
            print(_describe(advisory))
    for result in results:
        for advisory in result.ignored:
            print(f"ignored (reviewed): {result.installed.name} {result.installed.version} {advisory.id}")
    for result in not_latest:
        print(
            f"not latest: {result.installed.name} {result.installed.version} installed, {result.latest} available"
        )
    if unknown:
        print(
            "not on PyPI: cannot audit: "
            + ", ".join(f"{r.installed.name} {r.installed.version}" for r in unknown)
        )
    for result in errors:
        print(f"could not fetch: {result.installed.name} ({result.error})")
    print(
        f"dependency-audit: {len(audited)} audited, {len(vulnerable)} vulnerable, "
        f"{len(not_latest)} not latest, {len(unknown)} unknown"
        + (f", {len(errors)} not fetched" if errors else "")
        + f" (advisories from {index_url})"
    )
    if vulnerable:
        return 1
    if errors:
        print("dependency-audit: incomplete: the projects above could not be fetched; run it again.")
        return 2
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: ``--ignore ID`` (repeatable), ``--index-url URL`` and ``--retries N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="ID",
        help="an advisory id or alias reviewed and accepted (repeatable); say why where it is used",
    )
    parser.add_argument(
        "--index-url", default=DEFAULT_INDEX_URL, help=f"JSON API base (default {DEFAULT_INDEX_URL})"
    )
    parser.add_argument(
        "--retries", type=int, default=RETRIES, help=f"further attempts per project (default {RETRIES})"
    )
    return parser.parse_args(list(argv))


async def run(argv: Sequence[str], installed: Sequence[Installed] | None = None) -> int:
    """Run the audit as the command line asks and return its exit status.

    Args:
        argv: The command-line arguments, without the program name.
        installed: The distributions to audit; the running environment's when ``None``.

    """
    args = parse_args(argv)
    dists = installed_distributions() if installed is None else list(installed)
    print(f"dependency-audit: auditing {len(dists)} distributions against {args.index_url}", file=sys.stderr)
    results = await audit(dists, args.index_url, args.ignore, retries=args.retries)
    return report(results, args.index_url)


def main() -> int:
    """Entry point of ``python tools/dependency_audit.py``."""
    return asyncio.run(run(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
