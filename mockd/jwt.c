/* jwt.c - minting and verifying HS256 tokens, and the revocation list. */
#include "jwt.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "json/node.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_REVOKED 100000

struct revoked {
    char jti[40];
    int64_t exp;
};

struct mockd_jwt {
    unsigned char secret[64];
    size_t secret_len;
    unsigned access_ttl, refresh_ttl;
    pthread_mutex_t lock;
    struct revoked *rev;
    size_t nrev, caprev;
};

struct mockd_jwt *mockd_jwt_new(const char *secret, unsigned access_ttl, unsigned refresh_ttl)
{
    struct mockd_jwt *j = ct_xcalloc(1, sizeof(*j));
    if (secret && *secret) {
        size_t n = strlen(secret);
        if (n > sizeof(j->secret))
            n = sizeof(j->secret);
        memcpy(j->secret, secret, n);
        j->secret_len = n;
    } else {
        /* From the kernel: OpenSSL's generator costs milliseconds to set up at start, and
         * is set up on the first token anyway when one is ever minted. */
        if (getrandom(j->secret, 32, 0) != 32)
            RAND_bytes(j->secret, 32);
        j->secret_len = 32;
    }
    j->access_ttl = access_ttl ? access_ttl : 3600;
    j->refresh_ttl = refresh_ttl ? refresh_ttl : 7 * 24 * 3600;
    pthread_mutex_init(&j->lock, NULL);
    return j;
}

void mockd_jwt_free(struct mockd_jwt *j)
{
    if (!j)
        return;
    pthread_mutex_destroy(&j->lock);
    ct_free(j->rev);
    ct_free(j);
}

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_encode(struct ct_buf *out, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {b64u[v >> 18], b64u[(v >> 12) & 63], b64u[(v >> 6) & 63], b64u[v & 63]};
        ct_buf_add(out, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char q[2] = {b64u[v >> 18], b64u[(v >> 12) & 63]};
        ct_buf_add(out, q, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char q[3] = {b64u[v >> 18], b64u[(v >> 12) & 63], b64u[(v >> 6) & 63]};
        ct_buf_add(out, q, 3);
    }
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64u, c) : NULL;
    return p ? (int)(p - b64u) : -1;
}

/* Decode base64url without padding; returns length or -1. out must hold len*3/4+3 bytes. */
static long b64url_decode(const char *s, size_t len, unsigned char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (len % 4 == 1)
        return -1;
    return (long)o;
}

static void sign(const struct mockd_jwt *j, const char *msg, size_t len, unsigned char mac[32])
{
    unsigned int maclen = 32;
    HMAC(EVP_sha256(), j->secret, (int)j->secret_len, (const unsigned char *)msg, len, mac, &maclen);
}

static void random_id(char out[33])
{
    unsigned char r[16];
    RAND_bytes(r, sizeof(r));
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = 0;
}

char *mockd_jwt_mint(struct mockd_jwt *j, const char *type, const char *sub, const char *email,
                     const char *role, struct ct_arena *a, unsigned *expires_in)
{
    int64_t now = (int64_t)time(NULL);
    unsigned ttl = !strcmp(type, "refresh") ? j->refresh_ttl : j->access_ttl;
    char jti[33];
    random_id(jti);
    struct ct_buf payload;
    ct_buf_init(&payload, 0);
    ct_buf_adds(&payload, "{\"sub\":");
    ct_json_emit_string(&payload, sub ? sub : "user", strlen(sub ? sub : "user"));
    if (email) {
        ct_buf_adds(&payload, ",\"email\":");
        ct_json_emit_string(&payload, email, strlen(email));
    }
    if (role) {
        ct_buf_adds(&payload, ",\"role\":");
        ct_json_emit_string(&payload, role, strlen(role));
    }
    ct_buf_printf(&payload, ",\"type\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"iss\":\"mockd\"}",
                  type, (long long)now, (long long)(now + ttl), jti);
    struct ct_buf tok;
    ct_buf_init(&tok, 0);
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    b64url_encode(&tok, (const unsigned char *)header, sizeof(header) - 1);
    ct_buf_addc(&tok, '.');
    b64url_encode(&tok, (const unsigned char *)payload.ptr, payload.len);
    unsigned char mac[32];
    sign(j, tok.ptr, tok.len, mac);
    ct_buf_addc(&tok, '.');
    b64url_encode(&tok, mac, sizeof(mac));
    char *out = ct_arena_strndup(a, tok.ptr, tok.len);
    ct_buf_deinit(&tok);
    ct_buf_deinit(&payload);
    if (expires_in)
        *expires_in = ttl;
    return out;
}

const char *mockd_jwt_reason(enum mockd_jwt_result r)
{
    switch (r) {
    case MOCKD_JWT_OK:
        return "valid";
    case MOCKD_JWT_MALFORMED:
        return "the token is not a well-formed JWT";
    case MOCKD_JWT_BAD_ALG:
        return "the token's algorithm is not HS256 (alg 'none' is never accepted)";
    case MOCKD_JWT_BAD_SIGNATURE:
        return "the token's signature does not match";
    case MOCKD_JWT_EXPIRED:
        return "the token has expired";
    case MOCKD_JWT_WRONG_TYPE:
        return "the token is of the wrong type for this operation";
    case MOCKD_JWT_REVOKED:
        return "the token has been revoked";
    }
    return "invalid token";
}

static struct ct_node *decode_part(const char *s, size_t len, struct ct_arena *a)
{
    if (len == 0 || len > 8192)
        return NULL;
    unsigned char *buf = ct_arena_alloc(a, len * 3 / 4 + 4);
    long n = b64url_decode(s, len, buf);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = "token";
    src->text = (const char *)buf;
    src->len = (size_t)n;
    struct ct_parse_limits lim = {.max_depth = 8};
    return ct_json_parse(a, src, &lim, NULL);
}

static bool is_revoked(struct mockd_jwt *j, const char *jti)
{
    bool found = false;
    pthread_mutex_lock(&j->lock);
    for (size_t i = 0; i < j->nrev && !found; i++)
        found = !strcmp(j->rev[i].jti, jti);
    pthread_mutex_unlock(&j->lock);
    return found;
}

bool mockd_jwt_revoke(struct mockd_jwt *j, const char *jti, int64_t exp)
{
    int64_t now = (int64_t)time(NULL);
    bool fresh = true;
    pthread_mutex_lock(&j->lock);
    /* Drop entries whose tokens have expired anyway; they can never verify again. */
    size_t w = 0;
    for (size_t i = 0; i < j->nrev; i++) {
        if (!strcmp(j->rev[i].jti, jti))
            fresh = false;
        if (j->rev[i].exp >= now)
            j->rev[w++] = j->rev[i];
    }
    j->nrev = w;
    if (fresh) {
        if (j->nrev >= MAX_REVOKED) {
            memmove(j->rev, j->rev + 1, (j->nrev - 1) * sizeof(*j->rev));
            j->nrev--;
        }
        j->rev = ct_xgrow(j->rev, &j->caprev, j->nrev + 1, sizeof(*j->rev));
        snprintf(j->rev[j->nrev].jti, sizeof(j->rev[j->nrev].jti), "%s", jti);
        j->rev[j->nrev].exp = exp;
        j->nrev++;
    }
    pthread_mutex_unlock(&j->lock);
    return fresh;
}

enum mockd_jwt_result mockd_jwt_verify(struct mockd_jwt *j, const char *token, size_t len,
                                       const char *want_type, struct ct_arena *a,
                                       struct mockd_claims *out)
{
    memset(out, 0, sizeof(*out));
    const char *d1 = memchr(token, '.', len);
    if (!d1)
        return MOCKD_JWT_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', (size_t)(token + len - d1 - 1));
    if (!d2 || memchr(d2 + 1, '.', (size_t)(token + len - d2 - 1)))
        return MOCKD_JWT_MALFORMED;
    struct ct_node *hdr = decode_part(token, (size_t)(d1 - token), a);
    if (!hdr || hdr->kind != CT_OBJECT)
        return MOCKD_JWT_MALFORMED;
    const char *alg = ct_obj_str(hdr, "alg");
    if (!alg || strcmp(alg, "HS256") != 0)
        return MOCKD_JWT_BAD_ALG;
    size_t siglen = (size_t)(token + len - d2 - 1);
    unsigned char sig[64];
    if (siglen > 64 || b64url_decode(d2 + 1, siglen, sig) != 32)
        return MOCKD_JWT_BAD_SIGNATURE;
    unsigned char mac[32];
    sign(j, token, (size_t)(d2 - token), mac);
    if (CRYPTO_memcmp(mac, sig, 32) != 0)
        return MOCKD_JWT_BAD_SIGNATURE;
    struct ct_node *pl = decode_part(d1 + 1, (size_t)(d2 - d1 - 1), a);
    if (!pl || pl->kind != CT_OBJECT)
        return MOCKD_JWT_MALFORMED;
    const struct ct_node *exp = ct_obj_get(pl, "exp"), *iat = ct_obj_get(pl, "iat");
    out->sub = ct_obj_str(pl, "sub");
    out->email = ct_obj_str(pl, "email");
    out->role = ct_obj_str(pl, "role");
    out->type = ct_obj_str(pl, "type");
    out->jti = ct_obj_str(pl, "jti");
    out->exp = exp && exp->kind == CT_NUMBER ? (int64_t)exp->num : 0;
    out->iat = iat && iat->kind == CT_NUMBER ? (int64_t)iat->num : 0;
    if (!out->exp || !out->jti)
        return MOCKD_JWT_MALFORMED;
    if (out->exp <= (int64_t)time(NULL))
        return MOCKD_JWT_EXPIRED;
    if (want_type && (!out->type || strcmp(out->type, want_type) != 0))
        return MOCKD_JWT_WRONG_TYPE;
    if (is_revoked(j, out->jti))
        return MOCKD_JWT_REVOKED;
    return MOCKD_JWT_OK;
}
