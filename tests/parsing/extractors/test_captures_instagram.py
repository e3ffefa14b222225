"""Instagram: real GraphQL timeline nodes (../shared/captures/instagram, kept there as a TypeScript object
literal) replayed through the extractor, and mutated into the shapes platforms break into. The literal is
turned into data here, at test time; the expected media are read from it."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from parsing.extractors.instagram import EMBED_URL, InstagramExtractor, media_to_result
from parsing.recognition import recognize
from tests.support.mutations import assert_only_typed_errors, capture_path, mutated

SAMPLE = "instagram/graphql_timeline_nodes_sidecar_and_image_2024-01.sample.ts"

# The tokens of a TypeScript object literal: blanks and line comments (dropped), single- and double-quoted
# strings, bare words (keys, null/true/false, `export const`), numbers and punctuation.
_TOKEN = re.compile(r"""(?P<skip>\s+|//[^\n]*)|(?P<single>'(?:[^'\\]|\\.)*')|(?P<double>"(?:[^"\\]|\\.)*")"""
                    r"""|(?P<word>[A-Za-z_$][\w$]*)|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<punct>[{}\[\]:,=;])""",
                    re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unquote(literal: str) -> str:
    """The value of a JavaScript string literal (either quote)."""
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)",
                  lambda m: chr(int(m[1][1:], 16)) if len(m[1]) == 5 else _ESCAPES.get(m[1], m[1]),
                  literal[1:-1], flags=re.S)


def typescript_constants(source: str) -> dict[str, Any]:
    """``export const NAME = {…}`` object literals of a TypeScript file, as Python data."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ValueError(f"unexpected character at {position}: {source[position:position + 20]!r}")
        position = match.end()
        if match.lastgroup != "skip":
            tokens.append((match.lastgroup or "", match.group()))
    constants: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        if tokens[index][1] == "const":
            name, start = tokens[index + 1][1], index + 3  # const NAME = …
            depth, end, out = 0, start, []
            for end in range(start, len(tokens)):
                kind, value = tokens[end]
                following = tokens[end + 1][1] if end + 1 < len(tokens) else ""
                if value in "{[" and kind == "punct":
                    depth += 1
                elif value in "}]" and kind == "punct":
                    depth -= 1
                if kind in ("single", "double"):
                    out.append(json.dumps(_unquote(value)))
                elif kind == "word":
                    out.append(json.dumps(value) if following == ":" else
                               {"undefined": "null"}.get(value, value))
                elif value == "," and following in ("}", "]"):
                    continue  # a trailing comma
                else:
                    out.append(value)
                if depth == 0:
                    break
            constants[name] = json.loads("".join(out))
            index = end
        index += 1
    return constants


def sample() -> dict[str, Any]:
    return typescript_constants(capture_path(SAMPLE).read_text(encoding="utf-8"))


def embed_page(media: dict) -> str:
    """A minimal embed page carrying ``media`` the way Instagram's does: JSON inside a JSON string."""
    context = json.dumps({"context": {"shortcode": media["shortcode"]}, "gql_data": {"shortcode_media": media}})
    return ('<html><body class="embedded"><script>requireLazy([],function(){s.handle({"require":[["PolarisEmbedSimple",'
            f'"init",[],[{{"contextJSON":{json.dumps(context)}}}]]]}});}});</script></body></html>')


def replay(media: dict) -> dict:
    """extract() on the post's link, the embed page carrying the captured node."""
    code = media["shortcode"]
    with respx.mock() as mock:
        route = mock.get(EMBED_URL.format(code=code)).respond(200, html=embed_page(media))
        data = InstagramExtractor().extract(recognize(f"https://www.instagram.com/p/{code}/")).to_dict()
    assert route.called
    return data


def full_size(node: dict) -> tuple[str, int, int]:
    """The photo's biggest rendition: display_url at its dimensions, unless a display resource is wider."""
    widest = max(node["display_resources"], key=lambda r: r["config_width"])
    if widest["config_width"] > node["dimensions"]["width"]:
        return widest["src"], widest["config_width"], widest["config_height"]
    return node["display_url"], node["dimensions"]["width"], node["dimensions"]["height"]


def test_the_typescript_sample_reads_as_data():
    constants = sample()
    assert set(constants) == {"rawInstagramCarousel", "rawInstagramPost"}
    carousel = constants["rawInstagramCarousel"]["node"]
    assert carousel["__typename"] == "GraphSidecar"
    assert [e["node"]["__typename"] for e in carousel["edge_sidecar_to_children"]["edges"]] == [
        "GraphImage", "GraphImage", "GraphVideo"]
    assert carousel["edge_sidecar_to_children"]["edges"][2]["node"]["dash_info"]["video_dash_manifest"].startswith(
        "\n<MPD ")


def test_carousel_gives_its_two_photos_in_order_and_its_video():
    carousel = sample()["rawInstagramCarousel"]["node"]
    children = [e["node"] for e in carousel["edge_sidecar_to_children"]["edges"]]
    data = replay(carousel)
    photos = [c for c in children if not c["is_video"]]
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [full_size(c) for c in photos]
    # The second photo's display_url is a 750-wide copy; a display resource is 1080 wide.
    assert full_size(photos[1])[0] != photos[1]["display_url"]
    [clip] = [c for c in children if c["is_video"]]
    [video] = data["videos"]
    assert video["url"] == clip["video_url"]
    assert (video["width"], video["height"]) == (clip["dimensions"]["width"], clip["dimensions"]["height"])
    assert video["quality"] == f"{min(clip['dimensions'].values())}p"
    assert video["hasAudio"] is clip["has_audio"] is False
    assert data["thumbnail"] == carousel["display_url"]
    assert data["title"] == carousel["edge_media_to_caption"]["edges"][0]["node"]["text"]
    assert data["id"] == carousel["shortcode"]
    assert data["author"] == {"name": carousel["owner"]["username"], "id": carousel["owner"]["id"],
                              "url": f"https://www.instagram.com/{carousel['owner']['username']}/"}


def test_single_photo_post_gives_its_full_size_photo():
    post = sample()["rawInstagramPost"]["node"]
    data = replay(post)
    assert [(i["url"], i["width"], i["height"]) for i in data["images"]] == [full_size(post)]
    assert data["videos"] == [] and data["duration"] == 0
    assert data["title"] == post["edge_media_to_caption"]["edges"][0]["node"]["text"].strip()



@pytest.mark.parametrize("name", ["rawInstagramCarousel", "rawInstagramPost"])
def test_a_post_carries_its_time_and_its_like_and_comment_counts(name):
    node = sample()[name]["node"]
    data = replay(node)
    taken = dt.datetime.fromtimestamp(node["taken_at_timestamp"], dt.UTC)
    assert data["uploadedAt"] == taken.strftime("%Y-%m-%dT%H:%M:%SZ")
    # No view count for either: a carousel's video item counts its own views, not the post's.
    assert "video_view_count" not in node
    assert data["stats"] == {"views": None, "likes": node["edge_media_preview_like"]["count"],
                             "comments": node["edge_media_to_comment"]["count"], "shares": None}


def test_the_single_photo_post_has_one_like():
    assert replay(sample()["rawInstagramPost"]["node"])["stats"]["likes"] == 1


@pytest.mark.parametrize("name", ["rawInstagramCarousel", "rawInstagramPost"])
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_nodes_give_a_result_or_a_typed_error(name, data):
    node = data.draw(mutated(sample()[name]["node"]))
    outcome = assert_only_typed_errors(lambda: media_to_result(node, code="C2kl-EWOYT3", kind="post"))
    if outcome is not None:
        result, missing = outcome
        assert isinstance(missing, int)
        for item in (*result.images, *result.videos):
            assert isinstance(item.url, str) and item.url
            assert item.width is None or isinstance(item.width, int)
        assert isinstance(result.title, str) and isinstance(result.duration, int | float)
        assert result.uploaded_at is None or isinstance(result.uploaded_at, str)
        if result.stats is not None:
            assert all(type(v) is int or v is None for v in result.stats.to_dict().values())
