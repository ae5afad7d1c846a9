"""Safe YAML reading that remembers the line of every key and refuses hostile documents.

The document is built straight from the parser's events, without PyYAML's recursive composer:
that composer crashes the interpreter on a file of 100,000 nested brackets, and it would expand
"billion laughs" aliases before anything could count them.
"""
from typing import Any

import yaml
from yaml.nodes import ScalarNode

# libyaml parses about ten times faster than the pure-Python parser.
_Loader: type[yaml.CSafeLoader | yaml.SafeLoader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

MAX_BYTES = 1024 * 1024
# Values the document expands to: each value once, and an alias as many values as it repeats. The byte
# limit already bounds a document without aliases (20,000 questions fit in it), so this only stops
# "billion laughs" expansions; it is far above any honest file.
MAX_VALUES = 1_000_000
MAX_DEPTH = 40

#: Where a value is in a document: its keys and list indexes from the top.
KeyPath = tuple[str | int, ...]
Lines = dict[KeyPath, int]
_TAG = "tag:yaml.org,2002:"
_constructor = yaml.constructor.SafeConstructor()
_NUMBERS = {_TAG + "int": _constructor.construct_yaml_int, _TAG + "float": _constructor.construct_yaml_float}
_PLAIN = (None, "!")


def too_large(size: int) -> str:
    """Return the message for a document of `size` bytes over the limit."""
    return f"the file is too large ({size:,} bytes; the limit is {MAX_BYTES:,})"


class YamlProblem(Exception):
    """A document that cannot be read; `problems` holds (line or None, message) pairs."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def read_yaml(text: str) -> tuple[Any, Lines]:
    """Return the document's data and a map of key paths to line numbers; raise YamlProblem."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlProblem([(None, too_large(size))])
    loader = _Loader(text)
    try:
        builder = _Builder(loader)
        data = builder.run()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "unreadable YAML"
        if exc.context and exc.problem and exc.context_mark:
            # "while parsing a flow sequence" is only useful with the line where it began.
            detail += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise YamlProblem([(mark.line + 1 if mark else None, f"YAML syntax error: {detail}")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblem([(None, f"YAML syntax error: {exc}")]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise YamlProblem(sorted(builder.problems, key=lambda p: p[0] or 0))
    return data, builder.lines


class _Frame:
    """An open sequence or mapping while its events arrive."""

    __slots__ = ("value", "path", "anchor", "size", "key", "has_key", "skip", "key_lines", "merges")

    def __init__(self, value: list[Any] | dict[Any, Any], path: KeyPath, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.size = 1
        #: The key whose value comes next: a plain word, _Merge for `<<`, None before the first.
        self.key: str | int | type[_Merge] | None = None
        self.has_key = False
        self.skip = False
        self.key_lines: dict[str | int, int] = {}
        self.merges: list[tuple[Any, int]] = []

    def child_path(self) -> KeyPath:
        if isinstance(self.value, list):
            return (*self.path, len(self.value))
        if not self.has_key or self.skip:
            return (*self.path, "<key>")
        # The value of a merge key (`<<: *anchor`) sits under "<<", as written, until it is merged.
        return (*self.path, self.key if isinstance(self.key, str | int) else "<<")


class _Builder:
    """Turn parser events into plain Python data, noting the line of every path."""

    def __init__(self, loader: yaml.CSafeLoader | yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: Lines = {}
        self.problems: list[tuple[int | None, str]] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0
        self.stack: list[_Frame] = []
        self.documents = 0
        self.result: Any = None

    def run(self) -> Any:
        loader = self.loader
        while (event := loader.get_event()) is not None:
            self.handle(event)
        if self.documents == 0:
            raise YamlProblem([(1, "the file is empty")])
        return self.result

    def handle(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else 1  # the parser marks every event
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlProblem([(line, "the file holds more than one YAML document (remove the `---`)")])
        elif isinstance(event, yaml.ScalarEvent):
            self.add(self.scalar(event, line), 1, line, event.anchor, is_scalar=True, new_values=1)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise YamlProblem([(line, f"alias *{event.anchor} refers to an unknown anchor or to itself")])
            value, size = self.anchors[event.anchor]
            self.add(value, size, line, None, is_scalar=not isinstance(value, list | dict), new_values=size)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if event.tag not in _PLAIN and event.tag not in (_TAG + "seq", _TAG + "map"):
                self.problems.append((line, f"unsupported YAML tag {_short(event.tag)}"))
            if len(self.stack) >= MAX_DEPTH:
                raise YamlProblem([(line, f"the document is nested more than {MAX_DEPTH} levels deep")])
            path = self.stack[-1].child_path() if self.stack else ()
            self.lines.setdefault(path, line)
            value = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            self.stack.append(_Frame(value, path, event.anchor))
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            frame = self.stack.pop()
            if frame.merges:
                self.merge(frame)
            # Its contents were counted as they came: the container itself is one more value.
            self.add(frame.value, frame.size, self.lines.get(frame.path, line), frame.anchor, is_scalar=False,
                     new_values=1)

    def scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag = event.tag
        if tag in _PLAIN:
            tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
        if tag == _TAG + "str" or tag == _TAG + "timestamp":  # dates stay the text the author typed
            return event.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            # YAML 1.1 reads yes/no/on/off as booleans; a title "No" or a label "Yes" must stay text.
            # Where a boolean or a yes/no answer is expected, the schema accepts both spellings.
            return {"true": True, "false": False}.get(event.value.lower(), event.value)
        if tag == _TAG + "merge":
            return _Merge
        if tag in _NUMBERS:
            return _NUMBERS[tag](ScalarNode(tag, event.value))
        self.problems.append((line, f"unsupported YAML tag {_short(tag)}"))
        return None

    def add(self, value: Any, size: int, line: int, anchor: str | None, *, is_scalar: bool, new_values: int) -> None:
        self.total += new_values
        if self.total > MAX_VALUES:
            raise YamlProblem([(line, f"the document expands to more than {MAX_VALUES:,} values (an alias bomb?)")])
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.result = value
            return
        frame = self.stack[-1]
        frame.size += size
        if isinstance(frame.value, list):
            self.lines.setdefault((*frame.path, len(frame.value)), line)
            frame.value.append(value)
        elif not frame.has_key:
            self.key(frame, value, line, is_scalar)
        else:
            if not frame.skip:
                if frame.key is _Merge:
                    frame.merges.append((value, line))
                else:
                    frame.value[frame.key] = value
            frame.has_key = frame.skip = False

    def key(self, frame: _Frame, key: Any, line: int, is_scalar: bool) -> None:
        frame.has_key = True
        if key is _Merge:
            frame.key = key
            return
        if not is_scalar or isinstance(key, bool) or not isinstance(key, str | int):
            self.problems.append((line, "a key must be a plain word"))
            frame.skip = True
        elif key in frame.key_lines:
            self.problems.append((line, f"duplicate key {key!r} (first given on line {frame.key_lines[key]})"))
            frame.skip = True
        else:
            frame.key = key
            frame.key_lines[key] = line
            self.lines[(*frame.path, key)] = line

    def merge(self, frame: _Frame) -> None:
        """Apply `<<: *anchor` merges: keys written in the mapping itself win."""
        for value, line in frame.merges:
            for source in value if isinstance(value, list) else [value]:
                if not isinstance(source, dict):
                    self.problems.append((line, "`<<` can only merge mappings"))
                    continue
                for key, item in source.items():
                    if key not in frame.value:
                        frame.value[key] = item
                        self.lines.setdefault((*frame.path, key), line)


class _Merge:
    """Marker for the YAML merge key `<<`."""


def _short(tag: str) -> str:
    """Return a tag as the author wrote it: !!set rather than tag:yaml.org,2002:set."""
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
