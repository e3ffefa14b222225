"""``mergedTunnel``: a DASH video without sound and its best audio, remuxed into one MP4 while streaming.

FFmpeg runs as a separate program (the static build that the imageio-ffmpeg wheel ships, so it installs
from the project's own files; ``EASYDOWN_FFMPEG`` points elsewhere). It is never linked into the service.
The two upstream downloads go through the tunnel's checked connections and are fed to FFmpeg through two
pipes; FFmpeg copies the streams (no re-encoding) into a fragmented MP4 on its standard output, which is
relayed to the client as it comes. Nothing is written to disk and nothing of the full size is held in memory
(each pipe holds 64 KiB; the client's pace holds FFmpeg, which holds the upstream reads). A client that
leaves stops FFmpeg and closes both upstream connections. No Range: the merged file does not exist
anywhere to take a range of (``Accept-Ranges: none``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from functools import cache
from typing import Any

import httpx
from django.conf import settings

from easydown import exceptions as api
from easydown import metrics

from . import tunnel

log = logging.getLogger(__name__)


@cache
def ffmpeg_path() -> str:
    if settings.EASYDOWN_FFMPEG:
        return settings.EASYDOWN_FFMPEG
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def command(video_fd: int, audio_fd: int) -> list[str]:
    return [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin",
            "-i", f"pipe:{video_fd}", "-i", f"pipe:{audio_fd}", "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
            "-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "pipe:1"]


async def _feed(upstream: tunnel.Upstream, fd: int) -> None:
    """Copy the upstream body into the pipe ``fd`` (then close it), at FFmpeg's pace."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, os.fdopen(fd, "wb", 0))
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    try:
        async for chunk in upstream.aiter_raw(tunnel.CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # FFmpeg stopped reading (it failed, or the client left)
    finally:
        writer.close()


async def _open(platform: str, url: str, headers: dict[str, str]) -> tunnel.Upstream:
    """An upstream whose status allows merging, or an ApiError the client gets instead."""
    try:
        upstream = await tunnel.open_upstream(platform, url, headers)
    except tunnel.Refused as exc:
        log.warning("tunnel refused %s: %s", platform, exc)
        raise tunnel.UpstreamError("The media address is not allowed") from None
    except httpx.TimeoutException:
        raise api.UpstreamTimeout() from None
    except (httpx.HTTPError, OSError):
        raise tunnel.UpstreamError() from None
    if upstream.status_code in (200, 206):
        return upstream
    await upstream.aclose()
    if upstream.status_code in (403, 404, 410):
        raise tunnel.MediaExpired()
    raise tunnel.UpstreamError(f"The platform answered {upstream.status_code}")


async def stream_merged(send, claims: dict[str, Any], *, head: bool, download: bool, slot) -> None:
    headers = [(b"content-type", b"video/mp4"), (b"accept-ranges", b"none"), (b"x-content-type-options", b"nosniff")]
    if download:
        headers.append((b"content-disposition", tunnel.content_disposition(str(claims.get("n") or "video.mp4"))
                        .encode()))
    if head:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    platform = str(claims.get("p", ""))
    upstreams: list[tunnel.Upstream] = []
    feeds: list[asyncio.Task] = []
    process = None
    try:
        try:
            upstreams.append(await _open(platform, claims["u"], claims.get("h") or {}))
            upstreams.append(await _open(platform, claims["a"], claims.get("ah") or {}))
        except api.ApiError as error:
            await tunnel._send_error(send, error)
            return
        video_read, video_write = os.pipe()
        audio_read, audio_write = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *command(video_read, audio_read), pass_fds=(video_read, audio_read),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        finally:
            os.close(video_read)
            os.close(audio_read)
        feeds = [asyncio.ensure_future(_feed(upstreams[0], video_write)),
                 asyncio.ensure_future(_feed(upstreams[1], audio_write))]
        errors = asyncio.ensure_future(process.stderr.read(64 * 1024))
        started = False
        while chunk := await process.stdout.read(tunnel.CHUNK):
            if not started:
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                started = True
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            metrics.TUNNEL_BYTES.labels(platform).inc(len(chunk))
            await slot.refresh()
        code = await process.wait()
        message = (await errors).decode(errors="replace").strip()
        if code != 0:
            log.warning("ffmpeg could not merge %s (exit %s): %s", platform, code, message[:500])
        if not started:
            await tunnel._send_error(send, tunnel.UpstreamError("The media could not be merged"))
            return
        await send({"type": "http.response.body", "body": b""})
    finally:
        for task in feeds:
            task.cancel()
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        await asyncio.gather(*feeds, return_exceptions=True)
        for upstream in upstreams:
            await upstream.aclose()
