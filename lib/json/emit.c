/* emit.c - serialise ct_node trees as JSON or as block-style YAML 1.2. */
#include "node.h"

#include <string.h>

void ct_json_emit_string(struct ct_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ct_buf_addc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ct_buf_add(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': ct_buf_add(out, "\\\"", 2); break;
        case '\\': ct_buf_add(out, "\\\\", 2); break;
        case '\n': ct_buf_add(out, "\\n", 2); break;
        case '\r': ct_buf_add(out, "\\r", 2); break;
        case '\t': ct_buf_add(out, "\\t", 2); break;
        case '\b': ct_buf_add(out, "\\b", 2); break;
        case '\f': ct_buf_add(out, "\\f", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ct_buf_add(out, e, 6);
        }
        }
    }
    ct_buf_add(out, s + run, len - run);
    ct_buf_addc(out, '"');
}

static void indent(struct ct_buf *out, int depth)
{
    ct_buf_addc(out, '\n');
    for (int i = 0; i < depth; i++)
        ct_buf_add(out, "  ", 2);
}

static void emit_json(const struct ct_node *n, struct ct_buf *out, bool pretty, int depth)
{
    switch (n->kind) {
    case CT_NULL:
        ct_buf_add(out, "null", 4);
        break;
    case CT_BOOL:
        if (n->flags & CT_NF_TRUE)
            ct_buf_add(out, "true", 4);
        else
            ct_buf_add(out, "false", 5);
        break;
    case CT_NUMBER:
        ct_buf_add(out, n->u.text, n->len);
        break;
    case CT_STRING:
        ct_json_emit_string(out, n->u.str, n->len);
        break;
    case CT_ARRAY:
        ct_buf_addc(out, '[');
        for (uint32_t i = 0; i < n->len; i++) {
            if (i)
                ct_buf_addc(out, ',');
            if (pretty)
                indent(out, depth + 1);
            emit_json(n->u.items[i], out, pretty, depth + 1);
        }
        if (pretty && n->len)
            indent(out, depth);
        ct_buf_addc(out, ']');
        break;
    default:
        ct_buf_addc(out, '{');
        for (uint32_t i = 0; i < n->len; i++) {
            if (i)
                ct_buf_addc(out, ',');
            if (pretty)
                indent(out, depth + 1);
            const struct ct_member *m = &n->u.members[i];
            ct_json_emit_string(out, m->key->u.str, m->key->len);
            ct_buf_add(out, pretty ? ": " : ":", pretty ? 2 : 1);
            emit_json(m->val, out, pretty, depth + 1);
        }
        if (pretty && n->len)
            indent(out, depth);
        ct_buf_addc(out, '}');
        break;
    }
}

void ct_json_emit(const struct ct_node *n, struct ct_buf *out, bool pretty)
{
    emit_json(n, out, pretty, 0);
}

/* --- YAML ----------------------------------------------------------------------------- */

/* A string may be written plain when it reads back as the same string under the YAML 1.2 core
 * schema and YAML 1.1 readers: conservative on purpose. */
static bool yaml_plain_ok(const char *s, size_t len)
{
    if (!len || len > 200)
        return false;
    static const char *const reserved[] = {"null", "Null", "NULL", "true", "True", "TRUE",
                                           "false", "False", "FALSE", "yes", "Yes", "YES",
                                           "no", "No", "NO", "on", "On", "ON", "off", "Off",
                                           "OFF", "y", "Y", "n", "N", "~"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
            return false;
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_' || c0 == '/' ||
          c0 >= 0x80))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == '/' || c == '$' || c == '(' ||
                  c == ')' || c >= 0x80 || (c == ' ' && i + 1 < len && s[i + 1] != ' ' &&
                                            s[i + 1] != '#');
        if (!ok)
            return false;
    }
    return s[len - 1] != ' ';
}

static void yaml_scalar(const struct ct_node *n, struct ct_buf *out)
{
    if (n->kind == CT_STRING) {
        if (yaml_plain_ok(n->u.str, n->len))
            ct_buf_add(out, n->u.str, n->len);
        else
            ct_json_emit_string(out, n->u.str, n->len); /* JSON strings are YAML double-quoted */
        return;
    }
    emit_json(n, out, false, 0);
}

static bool yaml_is_block(const struct ct_node *n)
{
    return (n->kind == CT_OBJECT || n->kind == CT_ARRAY) && n->len > 0;
}

static void emit_yaml(const struct ct_node *n, struct ct_buf *out, int depth, bool inline_first)
{
    if (n->kind == CT_OBJECT && n->len) {
        for (uint32_t i = 0; i < n->len; i++) {
            const struct ct_member *m = &n->u.members[i];
            if (i || !inline_first)
                indent(out, depth);
            yaml_scalar(m->key, out);
            ct_buf_addc(out, ':');
            if (yaml_is_block(m->val)) {
                /* Sequences under a key sit at the key's indentation, as most YAML is written. */
                emit_yaml(m->val, out, m->val->kind == CT_ARRAY ? depth : depth + 1, false);
            } else {
                ct_buf_addc(out, ' ');
                yaml_scalar(m->val, out);
            }
        }
    } else if (n->kind == CT_ARRAY && n->len) {
        for (uint32_t i = 0; i < n->len; i++) {
            if (i || !inline_first)
                indent(out, depth);
            ct_buf_add(out, "- ", 2);
            const struct ct_node *it = n->u.items[i];
            if (yaml_is_block(it))
                emit_yaml(it, out, depth + 1, true);
            else
                yaml_scalar(it, out);
        }
    } else if (n->kind == CT_OBJECT) {
        ct_buf_add(out, " {}", inline_first ? 2 : 3);
    } else if (n->kind == CT_ARRAY) {
        ct_buf_add(out, " []", inline_first ? 2 : 3);
    } else {
        yaml_scalar(n, out);
    }
}

void ct_yaml_emit(const struct ct_node *n, struct ct_buf *out)
{
    if (yaml_is_block(n)) {
        emit_yaml(n, out, 0, true);
    } else if (n->kind == CT_OBJECT) {
        ct_buf_add(out, "{}", 2);
    } else if (n->kind == CT_ARRAY) {
        ct_buf_add(out, "[]", 2);
    } else {
        yaml_scalar(n, out);
    }
    ct_buf_addc(out, '\n');
}
