"""Hardened XML in and out: parse untrusted WeCom XML, write CDATA that survives any text.

Parsing follows defusedxml's rules (a document type declaration, entity declaration or
external reference is refused outright, before anything is expanded) on a bare expat
parser, and builds the same dict shape as ``xmltodict.parse``: ``{root: {child: ...}}``,
an element with children is a dict, a text-only element a str, an empty one None,
repeated siblings a list, attributes ``"@name"`` keys. Differences, all on purpose, all as
WeCom and its SDKs read their XML: text is kept exactly (xmltodict strips it, which would
corrupt message content); whitespace between child elements is dropped; an element holding
CDATA is text, "" for an empty ``<![CDATA[]]>`` (a value WeCom sent empty, not a missing one),
and whitespace before its first CDATA section or after its last is layout, not text
(``<ToUserName>\n <![CDATA[x]]>\n</ToUserName>`` is "x").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .errors import GenReturnXmlError, XmlParseError

__all__ = ["MAX_XML_BYTES", "parse_xml", "cdata", "without_unsafe_characters"]

#: Default size cap; a callback's inner XML is a few kB.
MAX_XML_BYTES = 65536

# Characters XML 1.0 cannot carry at all, not even in CDATA or as character references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def without_unsafe_characters(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (most C0 controls, U+FFFE/U+FFFF).
    A member can type them into WeCom, which forwards them raw inside CDATA (CONVERSATIONS §7.2);
    dropped, the message still parses and is kept instead of being refused and lost."""
    return _NOT_XML.sub("", text)


def _forbid_dtd(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _forbid_unparsed_entity(name, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _forbid_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def parse_xml(
    data: bytes | str, *, max_bytes: int = MAX_XML_BYTES, force_list: Iterable[str] = ()
) -> dict[str, Any]:
    """Parse untrusted XML into an xmltodict-shaped dict.

    :param data: the document; ``str`` is parsed as UTF-8 whatever its declaration says.
    :param max_bytes: larger documents are refused before parsing.
    :param force_list: element names that always come out as a list, even when single
        (for WeCom events: ``("SelectedItem", "OptionId")``).
    :returns: ``{root_name: root_value}``.
    :raises XmlParseError: too large, malformed, or a DTD, entity declaration or
        external reference is present.
    """
    encoding = None
    if isinstance(data, str):
        encoding = "utf-8"
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise XmlParseError(f"XML text is not encodable as UTF-8: {exc}") from None
    if len(data) > max_bytes:
        raise XmlParseError(f"XML body of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    builder = _DictBuilder(frozenset(force_list))
    parser = expat.ParserCreate(encoding)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.StartCdataSectionHandler = builder.start_cdata
    parser.EndCdataSectionHandler = builder.end_cdata
    try:
        parser.Parse(data, True)
    except DefusedXmlException as exc:
        raise XmlParseError(f"XML refused: {type(exc).__name__} (no DTDs or entities allowed)") from None
    except expat.ExpatError as exc:
        raise XmlParseError(f"malformed XML: {exc}") from None
    return builder.result


class _DictBuilder:
    """Expat callbacks that build the dict; an explicit stack, so depth cannot recurse."""

    __slots__ = ("force_list", "stack", "result", "in_cdata")

    def __init__(self, force_list: frozenset[str]) -> None:
        self.force_list = force_list
        self.result: dict[str, Any] = {}
        self.in_cdata = False
        # one [children dict or None, text runs] frame per open element; the bottom one is the
        # document. A run is [text, inside CDATA?]; neighbours of one kind are merged.
        self.stack: list[list[Any]] = [[self.result, []]]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1]
        if parent[0] is None:
            parent[0] = {}
        self.stack.append([{f"@{k}": v for k, v in attrs.items()} if attrs else None, []])

    def end(self, name: str) -> None:
        children, runs = self.stack.pop()
        text = _element_text(runs)
        if children is None:
            value: Any = text
        else:
            value = children
            if text and not text.isspace():
                children["#text"] = text
        parent = self.stack[-1][0]
        if name in parent:
            existing = parent[name]
            if name in self.force_list or isinstance(existing, list):
                existing.append(value)
            else:
                parent[name] = [existing, value]
        else:
            parent[name] = [value] if name in self.force_list else value

    def text(self, data: str) -> None:
        runs = self.stack[-1][1]
        if runs and runs[-1][1] == self.in_cdata:
            runs[-1][0] += data
        else:
            runs.append([data, self.in_cdata])

    def start_cdata(self) -> None:
        self.in_cdata = True
        self.stack[-1][1].append(["", True])  # an empty section still makes the element text

    def end_cdata(self) -> None:
        self.in_cdata = False


def _element_text(runs: list[list[Any]]) -> str | None:
    """The text of an element's runs; None when it had none (``<a></a>``, ``<a/>``)."""
    if not runs:
        return None
    if any(in_cdata for _, in_cdata in runs):  # layout whitespace around the CDATA goes
        if not runs[0][1] and runs[0][0].isspace():
            runs = runs[1:]
        if not runs[-1][1] and runs[-1][0].isspace():
            runs = runs[:-1]
    return "".join(text for text, _ in runs)


def cdata(text: str) -> str:
    """Wrap ``text`` in CDATA so that any XML parser gives back exactly ``text``.

    ``]]>`` is split across two sections and carriage returns go out as ``&#13;``
    (parsers turn a raw CR, even inside CDATA, into LF).

    :raises GenReturnXmlError: the text holds a character XML cannot carry (NUL, most
        C0 controls, lone surrogates, U+FFFE/U+FFFF).
    """
    bad = _NOT_XML.search(text)
    if bad:
        raise GenReturnXmlError(f"character {bad.group()!r} cannot be carried in XML")
    if "]]>" in text:
        text = text.replace("]]>", "]]]]><![CDATA[>")
    if "\r" in text:
        text = text.replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{text}]]>"
