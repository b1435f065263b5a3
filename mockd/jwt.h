/* jwt.h - HS256 JSON Web Tokens for mockd's auth simulation (OpenSSL's HMAC).
 *
 * mockd mints real tokens on the contract's login and refresh operations and checks them on
 * protected operations: a missing, malformed, expired, wrongly signed, `alg: none` (or any alg
 * other than HS256), wrong-type or revoked token is refused, with a reason. Refresh tokens are
 * single use: a reused refresh token is refused (rotation). Logout revokes. The revocation list
 * is shared by all worker threads (a mutex) and bounded. */
#pragma once

#include "core/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mockd_jwt;

/** secret may be NULL: a random 32-byte secret is made. Caller owns: mockd_jwt_free(). */
struct mockd_jwt *mockd_jwt_new(const char *secret, unsigned access_ttl, unsigned refresh_ttl);
void mockd_jwt_free(struct mockd_jwt *j);

struct mockd_claims {
    const char *sub;   /* user id */
    const char *email;
    const char *role;
    const char *type;  /* "access" or "refresh" */
    const char *jti;
    int64_t iat, exp;
};

/** Mint a token of `type` ("access"/"refresh") for the user; the string lives in `a`.
 * *expires_in gets the lifetime in seconds. */
char *mockd_jwt_mint(struct mockd_jwt *j, const char *type, const char *sub, const char *email,
                     const char *role, struct ct_arena *a, unsigned *expires_in);

enum mockd_jwt_result {
    MOCKD_JWT_OK,
    MOCKD_JWT_MALFORMED,
    MOCKD_JWT_BAD_ALG,
    MOCKD_JWT_BAD_SIGNATURE,
    MOCKD_JWT_EXPIRED,
    MOCKD_JWT_WRONG_TYPE,
    MOCKD_JWT_REVOKED,
};

/** Verify a token of the expected type; on MOCKD_JWT_OK the claims point into `a`. */
enum mockd_jwt_result mockd_jwt_verify(struct mockd_jwt *j, const char *token, size_t len,
                                       const char *want_type, struct ct_arena *a,
                                       struct mockd_claims *out);

/** Human reason for a result ("the token has expired"). Static string. */
const char *mockd_jwt_reason(enum mockd_jwt_result r);

/** Revoke a token id until `exp` (logout, refresh rotation). Returns false if it already was. */
bool mockd_jwt_revoke(struct mockd_jwt *j, const char *jti, int64_t exp);
