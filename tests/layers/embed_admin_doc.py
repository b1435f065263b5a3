#!/usr/bin/env python3
"""Embed docs/mockd-admin.yaml into mockd/admin_doc.c (a byte array: ISO C limits string
literals to 4095 characters, and -Wpedantic holds us to it).

usage: embed_admin_doc.py DOC OUT.c          write OUT.c
       embed_admin_doc.py --check DOC OUT.c  exit 1 (TAP "not ok") when OUT.c is stale

mockd/admin_doc.c is committed so that building needs no Python; the test layers.admin-doc-current
runs the --check form, so a changed document without a regenerated file fails CI."""
import sys


def render(doc_bytes):
    out = ["/* admin_doc.c - GENERATED from docs/mockd-admin.yaml by tests/layers/embed_admin_doc.py;",
           " * do not edit. Regenerate: python3 tests/layers/embed_admin_doc.py docs/mockd-admin.yaml",
           " * mockd/admin_doc.c */",
           '#include "layers_impl.h"',
           "",
           "const char mockd_admin_doc[] = {"]
    for i in range(0, len(doc_bytes), 16):
        chunk = doc_bytes[i:i + 16]
        out.append("    " + ", ".join(str(b if b < 128 else b - 256) for b in chunk) + ",")
    out.append("    0};")
    out.append(f"const size_t mockd_admin_doc_len = {len(doc_bytes)};")
    return "\n".join(out) + "\n"


def main():
    args = sys.argv[1:]
    check = args and args[0] == "--check"
    if check:
        args = args[1:]
    doc, target = args
    with open(doc, "rb") as f:
        text = render(f.read())
    if check:
        try:
            with open(target, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = ""
        if current == text:
            print("ok 1 - mockd/admin_doc.c matches docs/mockd-admin.yaml")
            print("1..1")
            return 0
        print("not ok 1 - mockd/admin_doc.c is stale: run python3 tests/layers/embed_admin_doc.py "
              "docs/mockd-admin.yaml mockd/admin_doc.c")
        print("1..1")
        return 1
    with open(target, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


sys.exit(main())
