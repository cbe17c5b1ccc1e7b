"""Keep the generated part of every Terraform module's README current.

    python scripts/terraform_docs.py [MODULES]          # rewrite the generated parts
    python scripts/terraform_docs.py --check [MODULES]  # exit 1 when one is stale or missing

MODULES defaults to templates/terraform/infra/modules; `make docs` runs it. A README's
generated part lies between the markers terraform-docs uses,

    <!-- BEGIN_TF_DOCS -->
    ...
    <!-- END_TF_DOCS -->

each on a line of its own. Only that part is rewritten: the title and any prose the
module's authors write above or below the markers stay as they are. A README without
markers gets them appended at its end; a new module gets a README with its title and
the markers. A README with a marker missing, repeated or out of order is an error, and
then nothing is written. --check fails when a README is missing, has no markers, or
its generated part differs from what the module's files give.

The generated part comes from the module's header comment (main.tf), variables
(variables.tf), outputs (outputs.tf) and tests (tests/*.tftest.hcl). The modules are
formatted by `terraform fmt`, so a top-level attribute is a line indented by exactly
two spaces; that is all the parsing relies on. A developer tool: the wheel does not
ship it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "templates" / "terraform" / "infra" / "modules"
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
FIX = "run `make docs` (python scripts/terraform_docs.py)"
_BLOCK = re.compile(r'^(variable|output) "([a-z0-9_]+)" \{\n(.*?)^\}', re.M | re.S)
_ATTR = re.compile(r"^  ([a-z_]+)\s*=\s*(.*)$")


class ReadmeError(Exception):
    """A README whose markers the tool cannot place its part between."""


@dataclass(frozen=True)
class Item:
    name: str
    description: str
    type: str = ""
    default: str | None = None


def _attributes(body: str) -> dict[str, str]:
    """Top-level attributes of a block body, with multi-line values joined."""
    attrs: dict[str, str] = {}
    current: str | None = None
    for line in body.splitlines():
        match = _ATTR.match(line)
        if match:
            current = match[1]
            attrs[current] = match[2].strip()
        elif line.startswith("  ") and not line.startswith("   ") and line.strip().endswith("{"):
            current = None  # a nested block such as validation
        elif current and (line.startswith("   ") or line.strip()[:1] in ("}", ")", "]")):
            attrs[current] += ", " + line.strip()
    return {k: _tidy(v) for k, v in attrs.items()}


def _tidy(value: str) -> str:
    """Multi-line values joined with commas, as HCL allows on one line."""
    value = re.sub(r"([{(\[]),\s*", r"\1 ", value)
    return re.sub(r",\s*([})\]])", r" \1", value)


def parse(path: Path, kind: str) -> list[Item]:
    """The `variable` or `output` blocks of a file; none when the file does not exist."""
    if not path.is_file():
        return []
    items = []
    for match in _BLOCK.finditer(path.read_text(encoding="utf-8")):
        if match[1] != kind:
            continue
        attrs = _attributes(match[3])
        description = attrs.get("description", "")
        if description.startswith('"'):
            description = description[1:-1].replace('\\"', '"')
        items.append(
            Item(
                name=match[2],
                description=description,
                type=re.sub(r" {2,}", " ", attrs.get("type", "")),
                default=re.sub(r" {2,}", " ", attrs["default"]) if "default" in attrs else None,
            )
        )
    return items


def header(main: Path) -> str:
    """main.tf's leading comment as Markdown. Lines join into paragraphs; a blank comment
    line ends one. A line starting `- ` is a list item, continued by the indented lines
    under it; an indented line anywhere else is a list item of its own (a table-like
    list such as `  public   - the load balancer ...`)."""
    if not main.is_file():
        return ""
    blocks: list[tuple[str, list[str]]] = []  # ("p" | "dash" | "indent", lines); ("", []) a break
    for raw in main.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("#"):
            break
        text = raw[1:].removeprefix(" ")
        kind = blocks[-1][0] if blocks else ""
        if not text.strip():
            blocks.append(("", []))
        elif text.startswith("- "):
            blocks.append(("dash", [text[2:]]))
        elif text[0].isspace() and kind == "dash":
            blocks[-1][1].append(text)
        elif text[0].isspace():
            blocks.append(("indent", [text]))
        elif kind == "p":
            blocks[-1][1].append(text)
        else:
            blocks.append(("p", [text]))
    out: list[str] = []
    previous = ""
    for kind, lines in blocks:
        words = " ".join(" ".join(lines).split())
        if kind and out and not (kind != "p" and previous in ("dash", "indent")):
            out.append("")
        if kind:
            out.append(words if kind == "p" else f"- {words}")
        previous = kind
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def generated(module: Path) -> str:
    """The text between the markers, from the module's own files."""
    variables = parse(module / "variables.tf", "variable")
    outputs = parse(module / "outputs.tf", "output")
    tests = sorted(p.name for p in (module / "tests").glob("*.tftest.hcl"))
    out = [
        "<!-- Generated from this module's .tf files: change those, not the text between "
        "these markers. -->",
        "",
    ]
    described = header(module / "main.tf")
    if described:
        out += [described, ""]
    out += ["## Inputs", ""]
    if variables:
        out += ["| name | description | type | default |", "|---|---|---|---|"]
        for v in variables:
            default = "required" if v.default is None else f"`{_cell(v.default)}`"
            out.append(f"| `{v.name}` | {_cell(v.description)} | `{_cell(v.type)}` | {default} |")
    else:
        out.append("None.")
    out += ["", "## Outputs", ""]
    if outputs:
        out += ["| name | description |", "|---|---|"]
        out += [f"| `{o.name}` | {_cell(o.description)} |" for o in outputs]
    else:
        out.append("None.")
    out += ["", "## Tests", ""]
    if tests:
        out.append(
            "`terraform init -backend=false && terraform test` runs "
            + ", ".join(f"`tests/{t}`" for t in tests)
            + " with a mocked AWS provider (`../.mocks`): no credentials, no network."
        )
    else:
        out.append("None yet: add `tests/<name>.tftest.hcl`.")
    return "\n".join(out) + "\n"


def _marker_lines(lines: list[str], marker: str) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip() == marker]


def inject(readme: str | None, title: str, part: str) -> str:
    """`readme` with `part` between its markers; the rest kept byte for byte.

    No README: a new one with the title. No markers: they are appended at the end."""
    block = f"{BEGIN}\n{part}{END}\n"
    if readme is None:
        return f"# {title}\n\n{block}"
    lines = readme.splitlines(keepends=True)
    begins, ends = _marker_lines(lines, BEGIN), _marker_lines(lines, END)
    if not begins and not ends:
        body = readme if readme.endswith("\n") or not readme else readme + "\n"
        return body + ("\n" if body.strip() else "") + block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ReadmeError(
            f"has {len(begins)} {BEGIN} and {len(ends)} {END} line(s); keep exactly one of "
            f"each, {BEGIN} first, each on a line of its own"
        )
    return "".join(lines[: begins[0]]) + block + "".join(lines[ends[0] + 1 :])


def _shown(path: Path) -> str:
    """The path relative to the working directory when it lies under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def modules(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/terraform_docs.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a README is stale; write nothing"
    )
    parser.add_argument("modules", nargs="?", type=Path, default=MODULES, help="modules folder")
    args = parser.parse_args(argv)
    if not args.modules.is_dir():
        print(f"{args.modules}: not a folder of Terraform modules", file=sys.stderr)
        return 2
    errors: list[str] = []  # READMEs the tool cannot write into
    stale: list[str] = []
    writes: dict[Path, tuple[str, str]] = {}  # path: (text, what the write does)
    for module in modules(args.modules):
        path = module / "README.md"
        shown = _shown(path)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        part = generated(module)
        try:
            wanted = inject(current, f"Module `{module.name}`", part)
        except ReadmeError as err:
            errors.append(f"{shown}: {err}")
            continue
        if wanted == current:
            continue
        if current is None:
            stale.append(f"{shown}: missing; {FIX}")
            writes[path] = (wanted, "created")
        elif not _marker_lines(current.splitlines(), BEGIN):
            stale.append(f"{shown}: has no {BEGIN} / {END} markers; {FIX}")
            writes[path] = (wanted, "appended the markers and the generated part at its end")
        else:
            stale.append(f"{shown}: the part between the markers is stale; {FIX}")
            writes[path] = (wanted, "rewrote the part between the markers")
    if args.check:
        for problem in errors + stale:
            print(problem, file=sys.stderr)
        return 1 if errors or stale else 0
    if errors:
        print(*errors, "nothing was written", sep="\n", file=sys.stderr)
        return 1
    for path, (text, what) in writes.items():
        path.write_text(text, encoding="utf-8")
        print(f"{_shown(path)}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
