/* err.h - operational error codes: 0 is success, failures are negative CT_E_* values.
 *
 * Numbers are stable: new codes are appended, old numbers never reused. Each code has an entry in
 * docs/errors.md (a test checks it). */
#pragma once

#define CT_ERR_MAP(X)                                                                              \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(IO, -2, "input/output error")                                                                \
    X(INVAL, -3, "invalid argument")                                                               \
    X(TOOBIG, -4, "size limit exceeded")                                                           \
    X(SYNTAX, -5, "syntax error")                                                                  \
    X(DUPKEY, -6, "duplicate key")                                                                 \
    X(DEPTH, -7, "nesting too deep")                                                               \
    X(ALIAS, -8, "YAML alias expansion limit exceeded")                                            \
    X(REF, -9, "unresolvable reference")                                                           \
    X(SPEC, -10, "invalid OpenAPI document")                                                       \
    X(VERSION, -11, "unsupported document version")                                                \
    X(NOTFOUND, -12, "not found")                                                                  \
    X(ENCODING, -13, "invalid UTF-8")                                                              \
    X(SCHEMA, -14, "invalid schema")                                                               \
    X(INVALID, -15, "instance does not match its schema")                                          \
    X(SCENARIO, -16, "invalid scenario")                                                           \
    X(CONTRACT, -17, "exchange breaks the contract")                                               \
    X(ASSERT, -18, "assertion failed")                                                             \
    X(UNREACHABLE, -19, "target unreachable")

enum ct_err {
    CT_OK = 0,
#define CT__ERR_ENUM(name, num, text) CT_E_##name = (num),
    CT_ERR_MAP(CT__ERR_ENUM)
#undef CT__ERR_ENUM
};

/** "CT_E_SYNTAX" for CT_E_SYNTAX; "CT_E_UNKNOWN" for numbers not in the table. Static string. */
const char *ct_err_name(int code);
/** A short lower-case description. Static string. */
const char *ct_strerror(int code);
