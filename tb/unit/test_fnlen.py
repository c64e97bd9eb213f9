#!/usr/bin/env python3
"""scripts/fnlen on small sources: what it counts as a definition, how long, and --check.

  python3 tb/unit/test_fnlen.py SOURCE_DIR
"""
import subprocess
import sys
import tempfile
from pathlib import Path

src = Path(sys.argv[1])
fnlen = [sys.executable, str(src / "scripts" / "fnlen")]
failures = []


def expect(what, cond):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def body(n):
    return "".join(f"  x += {i};\n" for i in range(n))


with tempfile.TemporaryDirectory() as d:
    f = Path(d) / "a.cpp"
    # long_one: the name line, the strings line, 86 + 1 body lines, the closing: 90 lines; braces inside strings, a
    # raw string and comments must not end it early or make it longer.
    f.write_text(
        "int long_one(int x) {\n"
        '  const char* s = "}}}"; const char* r = R"({{{)"; // }\n'
        + body(86)
        + "  return x;\n}\n"
        "/* { */\n"
        "int short_one(int x) {\n" + body(70) + "  auto l = [&](int y) {\n" + body(10)
        + "    return y; };\n  return l(x);\n}\n"
        "struct S {\n  S(int a, int b)\n      : a_(a),\n        b_{b} {\n" + body(85)
        + "  }\n  int a_; int b_; int x;\n};\n"
        "void g() {\n  if (true) {\n" + body(90) + "  }\n}\n")
    out = subprocess.run(fnlen + [str(f)], capture_output=True, text=True, check=True).stdout
    rows = {line.split()[2]: int(line.split()[0]) for line in out.splitlines()}
    expect(f"long_one found with 90 lines: {out!r}", rows.get("long_one") == 90)
    expect(f"short_one (85 lines with its lambda) found: {out!r}", rows.get("short_one") == 85)
    expect(f"the constructor is named S and counted from its name: {out!r}", rows.get("S") == 89)
    expect(f"g found, its if-block not as a function: {out!r}", rows.get("g") == 94 and "if" not in rows)
    out = subprocess.run(fnlen + ["--max", "90", str(f)], capture_output=True, text=True).stdout
    expect(f"--max 90 keeps only g: {out!r}", [l.split()[2] for l in out.splitlines()] == ["g"])

    doc = Path(d) / "arch.md"
    doc.write_text("# A\n\nFunctions over about 80 lines that remain, and why:\n\n"
                   "* `long_one` and `S::S` (`a.cpp`): reasons.\n* `short_one` (`a.cpp`): why.\n"
                   "\n## Next\n\n* `g` (`a.cpp`) is in another section.\n")
    r = subprocess.run(fnlen + ["--check", str(doc), str(f)], capture_output=True, text=True)
    expect(f"--check fails for g, listed outside the section: {r.stderr!r}",
           r.returncode == 1 and "g (a.cpp" in r.stderr and "long_one" not in r.stderr)
    doc.write_text(doc.read_text().replace("`short_one` (`a.cpp`)", "`short_one`, `g` (`a.cpp`)"))
    r = subprocess.run(fnlen + ["--check", str(doc), str(f)], capture_output=True, text=True)
    expect(f"--check passes with every one listed: {r.stderr!r}", r.returncode == 0)

print("fnlen: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
sys.exit(1 if failures else 0)
