"""``pull -a``: every tag of a repository, as Docker's daemon pulls them.

The daemon lists the repository's tags and pulls each as ``pull REPO:TAG``
would (its ``TAG: Pulling from`` line, its layers' lines, its ``Digest:``),
then says once, for the repository, whether anything was new; the CLI then
prints the repository's name. A tag or digest with ``-a`` is docker/cli's
refusal.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from dockyard.engine.images import ImageService


def pull_all_tags(
    images: ImageService,
    name: str,
    out: TextIO,
    quiet: bool = False,
    platform: str = "",
    jobs: int = 4,
) -> str:
    """Pull every tag of the repository ``name``; its full name (what the CLI prints)."""
    from dockyard.engine.images import status_line
    from dockyard.image import reference

    ref = reference.parse(name, default_tag=False)
    if ref.tag or ref.digest:
        raise InvalidArgument("tag can't be used with --all-tags/-a")
    tags = images.list_tags(name)
    if not tags:
        raise NotFound(f"the registry has no tags for {ref.familiar_repository}")
    newer = False
    for tag in tags:
        _, new = images.pull_tag(str(ref.with_tag(tag)), out, quiet, platform, jobs)
        newer = newer or new
    if not quiet:
        out.write(status_line(newer, ref.familiar_repository))
        out.flush()
    return ref.repository
