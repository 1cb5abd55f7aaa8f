"""The docker target's image, built offline: FROM scratch with the static
executor and probes (harness/native), nothing else -- no registry, no base
image, no shell.  Built through the Docker SDK from an in-memory context
and tagged by the hash of its inputs, so it is rebuilt only when they change."""
from __future__ import annotations

import hashlib
import io
import tarfile

from harness import build

REPO = "execspec-executor"


def context() -> tuple[bytes, str]:
    """(the build context as a tar, the tag derived from its contents)."""
    files = {"executor": build.native("executor").read_bytes()}
    for i, p in enumerate(build.probe_paths()):
        files[f"probe{i}"] = p.read_bytes()
    probes = " ".join(f'"--probe", "/probe{i}",' for i in range(len(files) - 1))
    dockerfile = ("FROM scratch\n"
                  "COPY tmp /tmp\n"
                  f"COPY {' '.join(sorted(files))} /\n"
                  "LABEL execspec=1\n"
                  f'ENTRYPOINT ["/executor", {probes} "--mode", "userns", "--scratch", "/tmp"]\n').encode()
    files["Dockerfile"] = dockerfile
    h = hashlib.sha256()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        d = tarfile.TarInfo("tmp")
        d.type, d.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(d)
        for name in sorted(files):
            data = files[name]
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if name != "Dockerfile" else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), h.hexdigest()[:16]


def ensure_image(client) -> str:
    """The image's reference, building it if this content has none yet."""
    import docker.errors
    ctx, tag = context()
    ref = f"{REPO}:{tag}"
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    client.images.build(fileobj=io.BytesIO(ctx), custom_context=True, tag=ref, rm=True, pull=False)
    return ref
