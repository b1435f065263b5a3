/* scalar.c - numbers, strings and formats, with property names as hints.
 *
 * Numbers are built exactly: a value is k x step, where step is the least common multiple of
 * every multipleOf (and 1 for integers) written as mantissa x 10^exp, so `multipleOf: 0.01` gives
 * "12.34" and never 12.340000000000001. Bounds are checked against the schema's own literals with
 * ct_num_cmp, so big and decimal bounds are honoured to the digit.
 *
 * Strings come, in order of preference, from the `format` (date-time, email, uuid, ...), from
 * the property name ("email", "createdAt", "title", "avatarUrl", ...), from the pattern (the
 * regex generator in regex.c), and otherwise from word lists, then are fitted to
 * minLength/maxLength in code points. Every candidate is checked against all the patterns,
 * lengths and the format before it is accepted. */
#include "gen_impl.h"

#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ===================================================================== word lists ========= */

/* clang-format off */

static const char *const WORDS[] = {
    "amber",   "anchor",  "apple",   "atlas",   "aurora",  "beacon",  "birch",   "breeze",
    "canyon",  "cedar",   "cloud",   "comet",   "coral",   "crystal", "delta",   "ember",
    "falcon",  "fern",    "forest",  "garden",  "glacier", "harbor",  "horizon", "island",
    "jade",    "juniper", "lantern", "lemon",   "maple",   "meadow",  "meteor",  "mint",
    "nebula",  "ocean",   "orbit",   "pebble",  "pine",    "planet",  "prairie", "quartz",
    "river",   "sage",    "signal",  "silver",  "spark",   "spring",  "stone",   "summit",
    "sunset",  "thunder", "timber",  "valley",  "velvet",  "willow",  "winter",  "zephyr",
};

static const char *const TAGS[] = {
    "marketing", "design",  "research", "engineering", "finance", "travel",  "health",
    "education", "support", "product",  "writing",     "coding",  "analysis", "sales",
};

static const char *const TITLES[] = {
    "Weekly team sync",        "Quarterly sales report",  "Product launch checklist",
    "Customer feedback notes", "Onboarding guide",        "Release plan",
    "Marketing email draft",   "Research summary",        "Travel itinerary",
    "Interview questions",     "Bug triage notes",        "Budget overview",
    "Meeting agenda",          "Blog post outline",       "Support reply template",
    "Project kickoff",
};

static const char *const SENTENCES[] = {
    "Summarize the key points of this article in three sentences.",
    "The quarterly report is ready for review.",
    "Please check the attached draft before Friday.",
    "This prompt helps you write clear and friendly emails.",
    "Our team shipped the new search feature last week.",
    "Translate the following paragraph into plain English.",
    "The meeting has been moved to Tuesday afternoon.",
    "Write a short product description for a reusable water bottle.",
    "Customers asked for a simpler checkout flow.",
    "List three risks and how to reduce each of them.",
    "The service will be under maintenance for one hour.",
    "Explain the difference between a list and a tuple.",
    "Thanks for the quick reply and the helpful details.",
    "Draft a polite reminder about the unpaid invoice.",
    "Give five ideas for a team offsite in spring.",
    "The new dashboard shows usage by day and by model.",
};

static const char *const FIRST_NAMES[] = {
    "Alice", "Bob",   "Carol", "David", "Emma",  "Frank", "Grace", "Henry", "Iris",
    "Jack",  "Karen", "Liam",  "Maria", "Noah",  "Olivia", "Peter", "Quinn", "Rosa",
    "Sam",   "Tina",  "Umar",  "Vera",  "Wei",   "Yuki",
};

static const char *const LAST_NAMES[] = {
    "Smith",  "Johnson", "Garcia", "Chen",   "Novak",  "Kim",    "Patel",  "Müller",
    "Rossi",  "Silva",   "Brown",  "Wilson", "Taylor", "Lopez",  "Nguyen", "Walker",
    "Wright", "Hughes",  "Sato",   "Larsen",
};

static const char *const CITIES[] = {"Berlin",  "Lisbon", "Toronto", "Osaka",  "Austin",
                                     "Nairobi", "Sydney", "Dublin",  "Seoul",  "Madrid",
                                     "Oslo",    "Denver", "Hangzhou", "Lyon"};
static const char *const COMPANIES[] = {"Acme Corp",     "Globex",        "Initech",
                                        "Umbrella Labs", "Northwind",     "Contoso",
                                        "Blue Harbor",   "Bright Peak",   "Stark Studio",
                                        "Fabrikam"};
static const char *const COUNTRIES[] = {"Germany", "Canada", "Japan",  "Brazil",
                                        "Kenya",   "France", "Norway", "Australia"};
static const char *const COUNTRY_CODES[] = {"US", "DE", "FR", "JP", "BR", "CA", "GB", "CN", "IN"};
static const char *const CURRENCIES[] = {"USD", "EUR", "GBP", "JPY", "CNY", "CAD", "CHF"};
static const char *const LANGS[] = {"en", "de", "fr", "es", "ja", "zh", "pt"};
static const char *const LOCALES[] = {"en-US", "de-DE", "fr-FR", "es-ES", "ja-JP", "zh-CN"};
static const char *const TIMEZONES[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo",
                                        "Asia/Shanghai", "UTC", "Australia/Sydney"};
static const char *const STREETS[] = {"Maple Street", "Harbor Road", "Oak Avenue",
                                      "Station Lane", "Market Square", "Hill Drive"};
static const char *const STATUSES[] = {"active", "pending", "completed", "archived", "draft"};
static const char *const MIMES[] = {"application/json", "text/plain", "image/png",
                                    "application/pdf", "text/markdown", "image/jpeg"};
static const char *const EXTS[] = {"pdf", "txt", "png", "md", "csv", "json"};
static const char *const TLDS[] = {"com", "org", "io", "net", "dev"};
static const char *const HOSTS[] = {"example", "acme", "northwind", "contoso", "globex"};
static const char *const PATH_WORDS[] = {"docs", "reports", "users", "files", "images",
                                         "projects", "assets", "notes"};

/* clang-format on */

static const char *pick(struct gen *g, const char *const *v, size_t n)
{
    return v[gen_below(g, n)];
}
#define PICK(g, arr) pick((g), (arr), NELEM(arr))

const char *ct__gen_word(struct gen *g)
{
    return PICK(g, WORDS);
}

size_t ct__gen_utf8_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* ===================================================================== hints ============= */

enum hint {
    H_NONE,
    H_EMAIL,
    H_URL,
    H_IMAGE,
    H_UUID,
    H_ID,
    H_FIRST,
    H_LAST,
    H_FULLNAME,
    H_NAME,
    H_USERNAME,
    H_TITLE,
    H_TEXT,
    H_PHONE,
    H_CITY,
    H_COUNTRY,
    H_COUNTRY_CODE,
    H_CURRENCY,
    H_LANG,
    H_LOCALE,
    H_TZ,
    H_ADDRESS,
    H_ZIP,
    H_STATUS,
    H_COLOR,
    H_TOKEN,
    H_PASSWORD,
    H_SLUG,
    H_TAG,
    H_COMPANY,
    H_VERSION,
    H_PATH,
    H_FILENAME,
    H_MIME,
    H_IP,
    H_HOST,
    H_DATETIME,
    H_DATE,
    H_TIME,
    H_HASH,
    H_CODE,
    H_METHOD,
};

/* Split "createdAt", "avatar_url", "X-Request-ID" into lower-case tokens. */
static unsigned tokenize(const char *s, char tok[][24], unsigned max)
{
    unsigned n = 0;
    size_t len = 0;
    for (const char *p = s; *p && n < max; p++) {
        char c = *p;
        bool upper = c >= 'A' && c <= 'Z';
        bool alnum = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        bool split = !alnum || (upper && len > 0 && p > s && !(p[-1] >= 'A' && p[-1] <= 'Z'));
        if (split && len > 0) {
            tok[n++][len] = 0;
            len = 0;
            if (n >= max) break;
        }
        if (alnum && len < 23) tok[n][len++] = (char)(upper ? c - 'A' + 'a' : c);
    }
    if (len > 0 && n < max) tok[n++][len] = 0;
    return n;
}

struct hint_rule {
    const char *tok;
    enum hint h;
};

/* Matched against the last token first, then against any token (in this order). Sorted by
 * token (byte order) for the binary search in find_rule. */
/* clang-format off */
static const struct hint_rule HINT_RULES[] = {
    {"address", H_ADDRESS}, {"answer", H_TEXT}, {"apikey", H_TOKEN},
    {"at", H_DATETIME}, {"author", H_FULLNAME}, {"avatar", H_IMAGE},
    {"bio", H_TEXT}, {"birthday", H_DATE}, {"body", H_TEXT},
    {"callback", H_URL}, {"caption", H_TEXT}, {"category", H_TAG},
    {"checksum", H_HASH}, {"city", H_CITY}, {"code", H_CODE},
    {"color", H_COLOR}, {"colour", H_COLOR}, {"comment", H_TEXT},
    {"company", H_COMPANY}, {"content", H_TEXT}, {"country", H_COUNTRY},
    {"created", H_DATETIME}, {"currency", H_CURRENCY}, {"date", H_DATE},
    {"datetime", H_DATETIME}, {"description", H_TEXT}, {"detail", H_TEXT},
    {"details", H_TEXT}, {"digest", H_HASH}, {"dir", H_PATH},
    {"displayname", H_FULLNAME}, {"dob", H_DATE}, {"domain", H_HOST},
    {"email", H_EMAIL}, {"endpoint", H_URL}, {"etag", H_HASH},
    {"expires", H_DATETIME}, {"family", H_LAST}, {"fax", H_PHONE},
    {"file", H_FILENAME}, {"filename", H_FILENAME}, {"first", H_FIRST},
    {"firstname", H_FIRST}, {"fullname", H_FULLNAME}, {"given", H_FIRST},
    {"guid", H_UUID}, {"handle", H_USERNAME}, {"hash", H_HASH},
    {"headline", H_TITLE}, {"homepage", H_URL}, {"host", H_HOST},
    {"hostname", H_HOST}, {"href", H_URL}, {"icon", H_IMAGE},
    {"id", H_ID}, {"ids", H_ID}, {"image", H_IMAGE},
    {"instructions", H_TEXT}, {"ip", H_IP}, {"key", H_TOKEN},
    {"keyword", H_TAG}, {"kind", H_TAG}, {"label", H_TAG},
    {"lang", H_LANG}, {"language", H_LANG}, {"last", H_LAST},
    {"lastname", H_LAST}, {"link", H_URL}, {"locale", H_LOCALE},
    {"login", H_USERNAME}, {"logo", H_IMAGE}, {"mail", H_EMAIL},
    {"message", H_TEXT}, {"method", H_METHOD}, {"mime", H_MIME},
    {"mimetype", H_MIME}, {"mobile", H_PHONE}, {"modified", H_DATETIME},
    {"name", H_NAME}, {"nationality", H_COUNTRY}, {"nick", H_USERNAME},
    {"nickname", H_USERNAME}, {"nonce", H_TOKEN}, {"note", H_TEXT},
    {"notes", H_TEXT}, {"org", H_COMPANY}, {"organisation", H_COMPANY},
    {"organization", H_COMPANY}, {"owner", H_FULLNAME}, {"passwd", H_PASSWORD},
    {"password", H_PASSWORD}, {"path", H_PATH}, {"phone", H_PHONE},
    {"photo", H_IMAGE}, {"picture", H_IMAGE}, {"postal", H_ZIP},
    {"postcode", H_ZIP}, {"prompt", H_TEXT}, {"question", H_TEXT},
    {"reason", H_TEXT}, {"reply", H_TEXT}, {"role", H_TAG},
    {"secret", H_TOKEN}, {"sha", H_HASH}, {"sid", H_ID},
    {"signature", H_TOKEN}, {"slug", H_SLUG}, {"state", H_STATUS},
    {"status", H_STATUS}, {"street", H_ADDRESS}, {"subject", H_TITLE},
    {"summary", H_TEXT}, {"surname", H_LAST}, {"tag", H_TAG},
    {"tags", H_TAG}, {"tel", H_PHONE}, {"telephone", H_PHONE},
    {"text", H_TEXT}, {"thumbnail", H_IMAGE}, {"time", H_TIME},
    {"timestamp", H_DATETIME}, {"timezone", H_TZ}, {"title", H_TITLE},
    {"token", H_TOKEN}, {"town", H_CITY}, {"type", H_TAG},
    {"tz", H_TZ}, {"updated", H_DATETIME}, {"uri", H_URL},
    {"url", H_URL}, {"username", H_USERNAME}, {"uuid", H_UUID},
    {"version", H_VERSION}, {"webhook", H_URL}, {"website", H_URL},
    {"zip", H_ZIP}, {"zipcode", H_ZIP},
};

/* clang-format on */

static const struct hint_rule *find_rule(const char *tok)
{
    size_t lo = 0, hi = NELEM(HINT_RULES);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(tok, HINT_RULES[mid].tok);
        if (c == 0) return &HINT_RULES[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static enum hint classify(const char *name)
{
    if (!name || !*name) return H_NONE;
    char tok[8][24];
    unsigned n = tokenize(name, tok, 8);
    if (!n) return H_NONE;
    /* Pairs that mean something together. */
    for (unsigned i = 0; i + 1 < n; i++) {
        if (!strcmp(tok[i + 1], "type") &&
            (!strcmp(tok[i], "content") || !strcmp(tok[i], "media") || !strcmp(tok[i], "mime")))
            return H_MIME;
        if (!strcmp(tok[i], "country") && !strcmp(tok[i + 1], "code")) return H_COUNTRY_CODE;
        if (!strcmp(tok[i], "first") && !strcmp(tok[i + 1], "name")) return H_FIRST;
        if (!strcmp(tok[i], "last") && !strcmp(tok[i + 1], "name")) return H_LAST;
        if (!strcmp(tok[i], "user") && !strcmp(tok[i + 1], "name")) return H_USERNAME;
        if ((!strcmp(tok[i], "full") || !strcmp(tok[i], "display")) && !strcmp(tok[i + 1], "name"))
            return H_FULLNAME;
        if (!strcmp(tok[i], "file") && !strcmp(tok[i + 1], "name")) return H_FILENAME;
        if (!strcmp(tok[i], "host") && !strcmp(tok[i + 1], "name")) return H_HOST;
    }
    const struct hint_rule *r = find_rule(tok[n - 1]);
    if (r) return r->h;
    for (unsigned i = 0; i + 1 < n; i++) {
        r = find_rule(tok[i]);
        if (r && r->h != H_DATETIME && r->h != H_TAG) return r->h;
    }
    return H_NONE;
}

/* Does this object describe a person? Its own name ("User", "author") or one of its properties
 * ("email", "firstName", "username") says so. */
bool ct__gen_person_hint(const char *name, bool is_property)
{
    if (!name) return false;
    if (is_property) {
        enum hint h = classify(name);
        /* Not "owner" or "author": those are usually another object. */
        return h == H_EMAIL || h == H_FIRST || h == H_LAST || h == H_USERNAME || h == H_PHONE;
    }
    char tok[8][24];
    unsigned n = tokenize(name, tok, 8);
    static const char *const who[] = {"user",     "person",  "author",   "owner",   "member",
                                      "customer", "contact", "employee", "account", "profile",
                                      "people",   "users",   "admin",    "staff",   "student"};
    for (unsigned i = 0; i < n; i++)
        for (size_t j = 0; j < NELEM(who); j++)
            if (!strcmp(tok[i], who[j])) return true;
    return false;
}

/* ===================================================================== formats =========== */

static void add_hex(struct gen *g, struct ct_buf *b, unsigned n)
{
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++)
        ct_buf_addc(b, hx[gen_below(g, 16)]);
}

static void add_alnum(struct gen *g, struct ct_buf *b, unsigned n)
{
    static const char an[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (unsigned i = 0; i < n; i++)
        ct_buf_addc(b, an[gen_below(g, sizeof an - 1)]);
}

static void add_lower(struct ct_buf *b, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            ct_buf_addc(b, c);
        else if ((unsigned char)c < 0x80)
            ct_buf_addc(b, '.');
    }
}

struct when {
    unsigned y, mo, d, h, mi, s;
};

static struct when rand_when(struct gen *g)
{
    struct when w;
    w.y = 2023 + (unsigned)gen_below(g, 3);
    w.mo = 1 + (unsigned)gen_below(g, 12);
    w.d = 1 + (unsigned)gen_below(g, 28);
    w.h = 7 + (unsigned)gen_below(g, 13);
    w.mi = (unsigned)gen_below(g, 60);
    w.s = (unsigned)gen_below(g, 60);
    return w;
}

/* Dates and times are the most common formats: written digit by digit, not through printf. */
static char *put_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

static char *put_date(char *p, const struct when *w)
{
    p = put_digits(p, w->y, 4);
    *p++ = '-';
    p = put_digits(p, w->mo, 2);
    *p++ = '-';
    return put_digits(p, w->d, 2);
}

static char *put_time(char *p, const struct when *w)
{
    p = put_digits(p, w->h, 2);
    *p++ = ':';
    p = put_digits(p, w->mi, 2);
    *p++ = ':';
    p = put_digits(p, w->s, 2);
    *p++ = 'Z';
    return p;
}

static void add_datetime(struct gen *g, struct ct_buf *b)
{
    struct when w = rand_when(g);
    char s[32], *p = put_date(s, &w);
    *p++ = 'T';
    p = put_time(p, &w);
    ct_buf_add(b, s, (size_t)(p - s));
}

static void add_date(struct gen *g, struct ct_buf *b)
{
    struct when w = rand_when(g);
    char s[16], *p = put_date(s, &w);
    ct_buf_add(b, s, (size_t)(p - s));
}

static void add_time(struct gen *g, struct ct_buf *b)
{
    struct when w = rand_when(g);
    char s[16], *p = put_time(s, &w);
    ct_buf_add(b, s, (size_t)(p - s));
}

/* The person of the object being generated (see g->persona). */
static const char *first_name(const struct gen *g)
{
    return FIRST_NAMES[g->persona % NELEM(FIRST_NAMES)];
}

static const char *last_name(const struct gen *g)
{
    return LAST_NAMES[(g->persona >> 16) % NELEM(LAST_NAMES)];
}

static void add_person_email(struct gen *g, struct ct_buf *b)
{
    add_lower(b, first_name(g));
    ct_buf_addc(b, '.');
    const char *last = last_name(g);
    if (strchr(last, (char)0xc3)) /* keep the local part ASCII */
        last = "smith";
    add_lower(b, last);
    ct_buf_printf(b, "@%s.%s", PICK(g, HOSTS), "com");
}

static void add_host(struct gen *g, struct ct_buf *b)
{
    static const char *const sub[] = {"api", "www", "app", "cdn", "mail"};
    ct_buf_printf(b, "%s.%s.%s", PICK(g, sub), PICK(g, HOSTS), PICK(g, TLDS));
}

static void add_url(struct gen *g, struct ct_buf *b, bool image)
{
    if (image) {
        ct_buf_printf(b, "https://cdn.%s.com/images/%s-%u.png", PICK(g, HOSTS), PICK(g, WORDS),
                      (unsigned)gen_below(g, 900) + 100);
        return;
    }
    ct_buf_printf(b, "https://%s.%s/%s/%u", PICK(g, HOSTS), PICK(g, TLDS), PICK(g, PATH_WORDS),
                  (unsigned)gen_below(g, 9000) + 1);
}

static void add_uuid(struct gen *g, struct ct_buf *b)
{
    static const char var[] = "89ab";
    add_hex(g, b, 8);
    ct_buf_addc(b, '-');
    add_hex(g, b, 4);
    ct_buf_adds(b, "-4");
    add_hex(g, b, 3);
    ct_buf_addc(b, '-');
    ct_buf_addc(b, var[gen_below(g, 4)]);
    add_hex(g, b, 3);
    ct_buf_addc(b, '-');
    add_hex(g, b, 12);
}

static void add_base64(struct ct_buf *b, const char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)s[i + 2];
        ct_buf_addc(b, t[(v >> 18) & 63]);
        ct_buf_addc(b, t[(v >> 12) & 63]);
        ct_buf_addc(b, i + 1 < n ? t[(v >> 6) & 63] : '=');
        ct_buf_addc(b, i + 2 < n ? t[v & 63] : '=');
    }
}

/* Append a value for a known format; false when the format is not one we generate. `h` refines
 * the choice (an image URL for "avatarUrl"). */
static bool add_format(struct gen *g, struct ct_buf *b, const char *f, enum hint h)
{
    if (!strcmp(f, "date-time")) {
        add_datetime(g, b);
    } else if (!strcmp(f, "date")) {
        add_date(g, b);
    } else if (!strcmp(f, "time")) {
        add_time(g, b);
    } else if (!strcmp(f, "duration")) {
        static const char *const d[] = {"PT15M", "PT1H30M", "P1D", "P2W", "PT45S", "P1DT12H"};
        ct_buf_adds(b, PICK(g, d));
    } else if (!strcmp(f, "email") || !strcmp(f, "idn-email")) {
        add_person_email(g, b);
    } else if (!strcmp(f, "hostname") || !strcmp(f, "idn-hostname")) {
        add_host(g, b);
    } else if (!strcmp(f, "ipv4")) {
        ct_buf_printf(b, "%u.%u.%u.%u", 10 + (unsigned)gen_below(g, 180),
                      (unsigned)gen_below(g, 256), (unsigned)gen_below(g, 256),
                      1 + (unsigned)gen_below(g, 254));
    } else if (!strcmp(f, "ipv6")) {
        ct_buf_adds(b, "2001:db8:");
        add_hex(g, b, 4);
        ct_buf_adds(b, "::");
        add_hex(g, b, 3);
        ct_buf_addc(b, '1');
    } else if (!strcmp(f, "uri") || !strcmp(f, "iri") || !strcmp(f, "url")) {
        add_url(g, b, h == H_IMAGE);
    } else if (!strcmp(f, "uri-reference") || !strcmp(f, "iri-reference")) {
        ct_buf_printf(b, "/%s/%u", PICK(g, PATH_WORDS), (unsigned)gen_below(g, 9000) + 1);
    } else if (!strcmp(f, "uri-template")) {
        ct_buf_printf(b, "https://%s.com/%s/{id}", PICK(g, HOSTS), PICK(g, PATH_WORDS));
    } else if (!strcmp(f, "uuid") || !strcmp(f, "guid")) {
        add_uuid(g, b);
    } else if (!strcmp(f, "json-pointer")) {
        ct_buf_printf(b, "/%s/%u", PICK(g, PATH_WORDS), (unsigned)gen_below(g, 5));
    } else if (!strcmp(f, "relative-json-pointer")) {
        ct_buf_printf(b, "%u/%s", (unsigned)gen_below(g, 3), PICK(g, PATH_WORDS));
    } else if (!strcmp(f, "regex")) {
        static const char *const r[] = {"^[a-z]+$", "^[A-Z]{3}-[0-9]{4}$", "\\d+", "^(yes|no)$"};
        ct_buf_adds(b, PICK(g, r));
    } else if (!strcmp(f, "byte")) {
        const char *s = PICK(g, SENTENCES);
        add_base64(b, s, strlen(s) > 24 ? 24 : strlen(s));
    } else if (!strcmp(f, "binary")) {
        ct_buf_adds(b, PICK(g, SENTENCES));
    } else if (!strcmp(f, "password")) {
        ct_buf_adds(b, "S3cure-");
        add_alnum(g, b, 9);
    } else if (!strcmp(f, "date-time-rfc-2822")) {
        static const char *const dn[] = {"Mon", "Tue", "Wed", "Thu", "Fri"};
        static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct when w = rand_when(g);
        ct_buf_printf(b, "%s, %02u %s %04u %02u:%02u:%02u +0000", PICK(g, dn), w.d, mn[w.mo - 1],
                      w.y, w.h, w.mi, w.s);
    } else if (!strcmp(f, "int32") || !strcmp(f, "int64") || !strcmp(f, "snowflake")) {
        ct_buf_printf(b, "%u", 1 + (unsigned)gen_below(g, 900000000));
    } else if (!strcmp(f, "float") || !strcmp(f, "double") || !strcmp(f, "decimal")) {
        ct_buf_printf(b, "%u.%02u", (unsigned)gen_below(g, 1000), (unsigned)gen_below(g, 100));
    } else if (!strcmp(f, "phone")) {
        ct_buf_printf(b, "+1415555%04u", (unsigned)gen_below(g, 10000));
    } else {
        return false;
    }
    return true;
}

/* ===================================================================== hinted text ======= */

static void add_name(struct gen *g, struct ct_buf *b)
{
    ct_buf_printf(b, "%s %s", first_name(g), last_name(g));
}

static void add_words(struct gen *g, struct ct_buf *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (i) ct_buf_addc(b, ' ');
        ct_buf_adds(b, PICK(g, WORDS));
    }
}

/* Text for a property name hint; `ctx` is the object's own hint (its schema name), which tells
 * a person's "name" from a project's. */
static void add_hinted(struct gen *g, struct ct_buf *b, enum hint h, enum hint ctx,
                       const char *ctx_name)
{
    switch (h) {
    case H_EMAIL:
        add_person_email(g, b);
        break;
    case H_URL:
        add_url(g, b, false);
        break;
    case H_IMAGE:
        add_url(g, b, true);
        break;
    case H_UUID:
        add_uuid(g, b);
        break;
    case H_ID: {
        static const char *const pre[] = {"usr", "prj", "doc", "ord", "itm", "evt"};
        ct_buf_printf(b, "%s_", PICK(g, pre));
        add_alnum(g, b, 10);
        break;
    }
    case H_FIRST:
        ct_buf_adds(b, first_name(g));
        break;
    case H_LAST:
        ct_buf_adds(b, last_name(g));
        break;
    case H_FULLNAME:
        add_name(g, b);
        break;
    case H_NAME: {
        bool person =
            ctx == H_FULLNAME || ctx == H_USERNAME || ctx == H_EMAIL || ct__gen_ctx_person(g);
        if (person) {
            add_name(g, b);
        } else {
            /* A project, a product, a pet: two capitalised words ("Amber Falcon"). */
            for (int w = 0; w < 2; w++) {
                const char *word = PICK(g, WORDS);
                if (w) ct_buf_addc(b, ' ');
                ct_buf_addc(b, (char)(word[0] - 'a' + 'A'));
                ct_buf_adds(b, word + 1);
            }
        }
        break;
    }
    case H_USERNAME:
        add_lower(b, first_name(g));
        ct_buf_printf(b, "_%u", (unsigned)gen_below(g, 100));
        break;
    case H_TITLE:
        ct_buf_adds(b, PICK(g, TITLES));
        break;
    case H_TEXT:
        ct_buf_adds(b, PICK(g, SENTENCES));
        break;
    case H_PHONE:
        ct_buf_printf(b, "+1415555%04u", (unsigned)gen_below(g, 10000));
        break;
    case H_CITY:
        ct_buf_adds(b, PICK(g, CITIES));
        break;
    case H_COUNTRY:
        ct_buf_adds(b, PICK(g, COUNTRIES));
        break;
    case H_COUNTRY_CODE:
        ct_buf_adds(b, PICK(g, COUNTRY_CODES));
        break;
    case H_CURRENCY:
        ct_buf_adds(b, PICK(g, CURRENCIES));
        break;
    case H_LANG:
        ct_buf_adds(b, PICK(g, LANGS));
        break;
    case H_LOCALE:
        ct_buf_adds(b, PICK(g, LOCALES));
        break;
    case H_TZ:
        ct_buf_adds(b, PICK(g, TIMEZONES));
        break;
    case H_ADDRESS:
        ct_buf_printf(b, "%u %s", 1 + (unsigned)gen_below(g, 250), PICK(g, STREETS));
        break;
    case H_ZIP:
        ct_buf_printf(b, "%05u", 10000 + (unsigned)gen_below(g, 89999));
        break;
    case H_STATUS:
        ct_buf_adds(b, PICK(g, STATUSES));
        break;
    case H_COLOR:
        ct_buf_addc(b, '#');
        add_hex(g, b, 6);
        break;
    case H_TOKEN:
        add_alnum(g, b, 32);
        break;
    case H_PASSWORD:
        ct_buf_adds(b, "S3cure-");
        add_alnum(g, b, 9);
        break;
    case H_SLUG:
        ct_buf_printf(b, "%s-%s", PICK(g, WORDS), PICK(g, WORDS));
        break;
    case H_TAG:
        ct_buf_adds(b, PICK(g, TAGS));
        break;
    case H_COMPANY:
        ct_buf_adds(b, PICK(g, COMPANIES));
        break;
    case H_VERSION:
        ct_buf_printf(b, "%u.%u.%u", 1 + (unsigned)gen_below(g, 3), (unsigned)gen_below(g, 10),
                      (unsigned)gen_below(g, 10));
        break;
    case H_PATH:
        ct_buf_printf(b, "/%s/%s.%s", PICK(g, PATH_WORDS), PICK(g, WORDS), PICK(g, EXTS));
        break;
    case H_FILENAME:
        ct_buf_printf(b, "%s-%s.%s", PICK(g, WORDS), PICK(g, WORDS), PICK(g, EXTS));
        break;
    case H_MIME:
        ct_buf_adds(b, PICK(g, MIMES));
        break;
    case H_IP:
        add_format(g, b, "ipv4", h);
        break;
    case H_HOST:
        add_host(g, b);
        break;
    case H_DATETIME:
        add_datetime(g, b);
        break;
    case H_DATE:
        add_date(g, b);
        break;
    case H_TIME:
        add_time(g, b);
        break;
    case H_HASH:
        add_hex(g, b, 40);
        break;
    case H_CODE: {
        static const char up[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        for (int i = 0; i < 6; i++)
            ct_buf_addc(b, up[gen_below(g, sizeof up - 1)]);
        break;
    }
    case H_METHOD: {
        static const char *const m[] = {"GET", "POST", "PUT", "DELETE"};
        ct_buf_adds(b, PICK(g, m));
        break;
    }
    case H_NONE:
    default:
        add_words(g, b, 1 + (unsigned)gen_below(g, 2));
        break;
    }
}

/* Filler that keeps a text readable while lengthening it. */
static bool texty(enum hint h)
{
    return h == H_NONE || h == H_TEXT || h == H_TITLE || h == H_NAME || h == H_FULLNAME ||
           h == H_COMPANY || h == H_ADDRESS || h == H_TAG || h == H_STATUS;
}

/* Cut to at most `max` code points, on a code point boundary. */
static void cut_cp(struct ct_buf *b, uint64_t max)
{
    size_t i = 0;
    uint64_t n = 0;
    while (i < b->len) {
        if (((unsigned char)b->ptr[i] & 0xc0) != 0x80) {
            if (n == max) break;
            n++;
        }
        i++;
    }
    b->len = i;
    if (b->ptr) b->ptr[b->len] = 0;
}

/* Fit a free text to [minlen, maxlen] code points: lengthen with words, cut, and keep the
 * ends free of spaces when there is room. */
static void fit_text(struct gen *g, struct ct_buf *b, uint64_t minlen, uint64_t maxlen, enum hint h)
{
    if (maxlen > 100000) maxlen = 100000;
    if (minlen > maxlen) return;
    uint64_t n = ct__gen_utf8_len(b->ptr ? b->ptr : "", b->len);
    while (n < minlen) {
        size_t before = b->len; /* count only what is appended: long texts stay linear */
        if (texty(h)) {
            if (h == H_TEXT && minlen - n > 40) {
                ct_buf_addc(b, ' ');
                ct_buf_adds(b, PICK(g, SENTENCES));
            } else {
                ct_buf_addc(b, n ? ' ' : 'a');
                ct_buf_adds(b, PICK(g, WORDS));
            }
        } else {
            add_alnum(g, b, (unsigned)(minlen - n < 64 ? minlen - n : 64));
        }
        n += ct__gen_utf8_len(b->ptr + before, b->len - before);
    }
    if (n > maxlen) {
        cut_cp(b, maxlen);
        n = maxlen;
    }
    /* A cut may leave a space (or a dangling '.' from a sentence) at the end. */
    while (b->len > 0 && b->ptr[b->len - 1] == ' ' && n > minlen) {
        b->ptr[--b->len] = 0;
        n--;
    }
    if (b->len > 0 && b->ptr[b->len - 1] == ' ') b->ptr[b->len - 1] = 'a';
}

/* ===================================================================== strings =========== */

struct strcons {
    uint64_t minlen, maxlen;
    const struct ct_node *pat[8];
    unsigned npat;
    const char *format;
    const struct ct_node *at; /* for diagnostics: the first schema with a string keyword */
};

static uint64_t count_of(const struct ct_node *v)
{
    if (!v || v->kind != CT_NUMBER || (v->flags & CT_NF_NEG)) return 0;
    if (v->num >= 1.8e19) return UINT64_MAX;
    return (uint64_t)v->num;
}

static void str_constraints(struct gen *g, const struct gen_conj *c, struct strcons *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->maxlen = UINT64_MAX;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        if (s->kind != CT_OBJECT) continue;
        const struct ct_node *v;
        if ((v = gkw(g, s, K_MIN_LENGTH)) && count_of(v) > sc->minlen) sc->minlen = count_of(v);
        if ((v = gkw(g, s, K_MAX_LENGTH)) && v->kind == CT_NUMBER && count_of(v) < sc->maxlen)
            sc->maxlen = count_of(v);
        if ((v = gkw(g, s, K_PATTERN)) && v->kind == CT_STRING && sc->npat < NELEM(sc->pat))
            sc->pat[sc->npat++] = v;
        if ((v = gkw(g, s, K_FORMAT)) && v->kind == CT_STRING && !sc->format) sc->format = v->u.str;
        if (!sc->at && (gkw(g, s, K_PATTERN) || gkw(g, s, K_MIN_LENGTH) ||
                        gkw(g, s, K_MAX_LENGTH) || gkw(g, s, K_FORMAT)))
            sc->at = s;
    }
    if (!sc->at && c->n) sc->at = c->v[0];
}

static bool str_ok(struct gen *g, const struct strcons *sc, const char *s, size_t len)
{
    uint64_t n = ct__gen_utf8_len(s, len);
    if (n < sc->minlen || n > sc->maxlen) return false;
    for (unsigned i = 0; i < sc->npat; i++) {
        /* No match, or PCRE2 gave up (so would the validator). */
        int rc = ct__gen_re_search(g->re, sc->pat[i]->u.str, sc->pat[i]->len, s, len);
        if (rc == 0 || rc == -2) return false;
    }
    if (sc->format && ct_format_check(sc->format, s, len) == 0) return false;
    return true;
}

/* A pattern without a final `$` still matches with text after its match, and one without a
 * leading `^` with text before it: pad that way to reach minLength. */
static void pad_for_pattern(struct gen *g, struct ct_buf *b, const struct strcons *sc)
{
    uint64_t n = ct__gen_utf8_len(b->ptr ? b->ptr : "", b->len);
    if (n >= sc->minlen || sc->minlen > 100000) return;
    while (n < sc->minlen) {
        ct_buf_addc(b, "abcdefghijklmnopqrstuvwxyz"[gen_below(g, 26)]);
        n++;
    }
}

struct ct_node *ct__gen_string(struct gen *g, const struct gen_conj *c, const char *hint)
{
    struct strcons sc;
    str_constraints(g, c, &sc);
    if (sc.minlen > sc.maxlen) {
        ct__gen_fail(g, sc.at, "minLength %llu is greater than maxLength %llu",
                     (unsigned long long)sc.minlen, (unsigned long long)sc.maxlen);
        return NULL;
    }
    if (sc.minlen > 100000) {
        ct__gen_fail(g, sc.at, "minLength %llu is too large to generate",
                     (unsigned long long)sc.minlen);
        return NULL;
    }
    enum hint h = classify(hint);
    if (h == H_NONE && c->refname) h = classify(c->refname);
    enum hint ctx = classify(g->ctx_name);
    struct ct_buf *b = &g->sbuf;
    bool fmt_known = false, re_ok = true;
    for (int attempt = 0; attempt < 10; attempt++) {
        b->len = 0;
        bool done = false;
        if (sc.format && attempt < 3) {
            fmt_known = add_format(g, b, sc.format, h);
            done = fmt_known;
        }
        if (!done && sc.npat && re_ok && (attempt >= 1 || h == H_NONE)) {
            /* Hinted text first (realistic when it happens to match), then the pattern. When
             * the pattern uses syntax the generator does not know, hinted text is all that is
             * left: try it with every remaining attempt. */
            b->len = 0;
            const struct ct_node *p = sc.pat[attempt % sc.npat];
            if (ct__gen_regex(g, p->u.str, p->len, sc.minlen, sc.maxlen, b)) {
                pad_for_pattern(g, b, &sc);
                done = true;
            } else {
                re_ok = false;
            }
        }
        if (!done) {
            b->len = 0;
            if (fmt_known || !sc.format || !add_format(g, b, sc.format, h))
                add_hinted(g, b, h, ctx, g->ctx_name);
            fit_text(g, b, sc.minlen, sc.maxlen, h);
        }
        const char *s = ct_buf_cstr(b);
        if (str_ok(g, &sc, s, b->len)) return ct__gen_str(g, s, b->len);
        if (!sc.npat && !sc.format && attempt >= 2) break;
    }
    if (sc.npat) {
        const struct ct_node *p = sc.pat[0];
        ct__gen_fail(g, p,
                     "could not generate a string matching pattern '%s' with length %llu..%llu",
                     p->u.str, (unsigned long long)sc.minlen,
                     (unsigned long long)(sc.maxlen == UINT64_MAX ? 0 : sc.maxlen));
    } else if (sc.format) {
        ct__gen_fail(g, sc.at, "could not generate a '%s' string with length %llu..%llu", sc.format,
                     (unsigned long long)sc.minlen, (unsigned long long)sc.maxlen);
    } else {
        ct__gen_fail(g, sc.at, "could not generate a string of length %llu..%llu",
                     (unsigned long long)sc.minlen, (unsigned long long)sc.maxlen);
    }
    return NULL;
}

/* ===================================================================== numbers =========== */

/* An exact decimal: m x 10^e. */
struct dnum {
    int64_t m;
    int e;
};

static bool dnum_from_node(const struct ct_node *n, struct dnum *out)
{
    struct ct_decimal d;
    if (!ct_decimal_from_node(n, &d) || d.overflow || d.ndigits > 18) return false;
    int64_t m = 0;
    for (uint32_t i = 0; i < d.ndigits; i++)
        m = m * 10 + (d.digits[i] - '0');
    if (d.ndigits == 0) {
        out->m = 0;
        out->e = 0;
        return true;
    }
    int64_t e = d.exp - (int64_t)d.ndigits;
    if (e < -30 || e > 30) return false;
    out->m = d.neg ? -m : m;
    out->e = (int)e;
    return true;
}

static bool pow10_i64(int k, int64_t *out)
{
    int64_t v = 1;
    for (int i = 0; i < k; i++)
        if (__builtin_mul_overflow(v, 10, &v)) return false;
    *out = v;
    return true;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* step := lcm(step, x), both positive. False on overflow. */
static bool dnum_lcm(struct dnum *step, struct dnum x)
{
    int e = step->e < x.e ? step->e : x.e;
    int64_t s1, s2, a, b;
    if (!pow10_i64(step->e - e, &s1) || !pow10_i64(x.e - e, &s2)) return false;
    if (__builtin_mul_overflow(step->m, s1, &a) || __builtin_mul_overflow(x.m, s2, &b))
        return false;
    int64_t gd = gcd64(a, b), l;
    if (__builtin_mul_overflow(a / gd, b, &l)) return false;
    /* Normalise: move factors of ten into the exponent. */
    while (l % 10 == 0 && e < 0) {
        l /= 10;
        e++;
    }
    step->m = l;
    step->e = e;
    return true;
}

/* Write k x step as a JSON literal. */
static bool dnum_text(int64_t k, struct dnum step, char *out, size_t cap)
{
    int64_t v;
    if (__builtin_mul_overflow(k, step.m, &v)) return false;
    int e = step.e;
    while (e < 0 && v % 10 == 0) {
        v /= 10;
        e++;
    }
    char digits[32];
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    if (e >= 0) {
        if (u == 0) return snprintf(out, cap, "0") < (int)cap;
        if (e > 12) return snprintf(out, cap, "%s%se%d", neg ? "-" : "", digits, e) < (int)cap;
        int w = snprintf(out, cap, "%s%s", neg ? "-" : "", digits);
        for (int i = 0; i < e && (size_t)w + 1 < cap; i++)
            out[w++] = '0';
        out[w] = 0;
        return (size_t)w + 1 < cap;
    }
    int frac = -e;
    size_t w = 0;
    if (neg) out[w++] = '-';
    if (nd <= frac) {
        out[w++] = '0';
        out[w++] = '.';
        for (int i = 0; i < frac - nd; i++)
            out[w++] = '0';
        memcpy(out + w, digits, (size_t)nd);
        w += (size_t)nd;
    } else {
        memcpy(out + w, digits, (size_t)(nd - frac));
        w += (size_t)(nd - frac);
        out[w++] = '.';
        memcpy(out + w, digits + nd - frac, (size_t)frac);
        w += (size_t)frac;
    }
    out[w] = 0;
    return w + 1 < cap;
}

struct bound {
    const struct ct_node *n; /* the literal, for the exact comparison; NULL: none */
    double v;
    bool excl;
};

struct numcons {
    struct bound lo, hi;
    struct dnum step;
    bool has_step, step_overflow;
    const struct ct_node *at;
    const char *format;
};

static void tighten(struct bound *b, const struct ct_node *n, bool excl, bool lower)
{
    if (!n || n->kind != CT_NUMBER) return;
    if (b->n) {
        int c = ct_num_cmp(n, b->n);
        if (lower ? c < 0 : c > 0) return;
        if (c == 0 && !excl) return;
    }
    b->n = n;
    b->v = n->num;
    b->excl = excl;
}

static void num_constraints(struct gen *g, const struct gen_conj *c, bool integer,
                            struct numcons *nc)
{
    memset(nc, 0, sizeof(*nc));
    nc->step.m = 1;
    nc->step.e = integer ? 0 : -2;
    nc->has_step = integer;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct ct_node *s = c->v[i];
        if (s->kind != CT_OBJECT) continue;
        const struct ct_node *mn = gkw(g, s, K_MINIMUM), *mx = gkw(g, s, K_MAXIMUM);
        const struct ct_node *emn = gkw(g, s, K_EXCLUSIVE_MINIMUM);
        const struct ct_node *emx = gkw(g, s, K_EXCLUSIVE_MAXIMUM);
        /* Draft 4 / OpenAPI 3.0: a boolean that makes its sibling exclusive; later drafts: a
         * number of its own. Both forms are honoured whatever the dialect. */
        bool bmn = emn && emn->kind == CT_BOOL && (emn->flags & CT_NF_TRUE);
        bool bmx = emx && emx->kind == CT_BOOL && (emx->flags & CT_NF_TRUE);
        tighten(&nc->lo, mn, bmn, true);
        tighten(&nc->hi, mx, bmx, false);
        if (emn && emn->kind == CT_NUMBER) tighten(&nc->lo, emn, true, true);
        if (emx && emx->kind == CT_NUMBER) tighten(&nc->hi, emx, true, false);
        const struct ct_node *mo = gkw(g, s, K_MULTIPLE_OF);
        struct dnum d;
        if (mo && mo->kind == CT_NUMBER && !(mo->flags & CT_NF_NEG) && dnum_from_node(mo, &d) &&
            d.m > 0) {
            if (!nc->has_step) {
                nc->step = d;
                nc->has_step = true;
            } else if (!dnum_lcm(&nc->step, d)) {
                nc->step_overflow = true;
            }
        } else if (mo) {
            nc->step_overflow = true;
        }
        const struct ct_node *f = gkw(g, s, K_FORMAT);
        if (f && f->kind == CT_STRING && !nc->format) nc->format = f->u.str;
        if (!nc->at && (mn || mx || emn || emx || mo)) nc->at = s;
    }
    if (!nc->at && c->n) nc->at = c->v[0];
    (void)g;
}

/* Preferred ranges by property name: what a frontend developer expects to see. */
static bool hint_range(const char *hint, bool integer, double *lo, double *hi)
{
    if (!hint) return false;
    char tok[8][24];
    unsigned n = tokenize(hint, tok, 8);
    if (!n) return false;
    /* clang-format off */
    static const struct {
        const char *tok;
        double lo, hi;
    } R[] = { /* sorted by token (byte order): binary search below */
        {"age", 18, 80},           {"amount", 1, 500},        {"at", 1700000000, 1735000000},
        {"attempts", 1, 5},        {"balance", 0, 5000},      {"bytes", 1024, 1048576},
        {"code", 200, 200},        {"cost", 1, 500},          {"count", 0, 50},
        {"day", 1, 28},            {"duration", 10, 5000},    {"fee", 1, 50},
        {"height", 64, 1080},      {"hour", 0, 23},           {"id", 1, 9999},
        {"index", 0, 10},          {"lat", -90, 90},          {"latency", 10, 5000},
        {"latitude", -90, 90},     {"level", 0, 10},          {"limit", 10, 50},
        {"lng", -180, 180},        {"lon", -180, 180},        {"longitude", -180, 180},
        {"minute", 0, 59},         {"month", 1, 12},          {"ms", 10, 5000},
        {"offset", 0, 100},        {"p", 0, 1},               {"page", 1, 5},
        {"percent", 0, 100},       {"percentage", 0, 100},    {"port", 1024, 65535},
        {"position", 0, 10},       {"price", 1, 500},         {"priority", 0, 10},
        {"probability", 0, 1},     {"quantity", 1, 20},       {"rank", 1, 10},
        {"rating", 1, 5},          {"ratio", 0, 1},           {"retry", 1, 5},
        {"score", 0, 100},         {"second", 0, 59},         {"seconds", 1, 3600},
        {"size", 1, 100},          {"stars", 1, 5},           {"status", 200, 200},
        {"temperature", 0, 1},     {"timestamp", 1700000000, 1735000000}, {"tokens", 16, 2048},
        {"total", 0, 500},         {"version", 1, 10},        {"weight", 1, 100},
        {"width", 64, 1920},       {"year", 2015, 2025},
    };
    /* clang-format on */
    (void)integer;
    size_t lo_i = 0, hi_i = NELEM(R);
    while (lo_i < hi_i) {
        size_t mid = (lo_i + hi_i) / 2;
        int c = strcmp(tok[n - 1], R[mid].tok);
        if (c == 0) {
            *lo = R[mid].lo;
            *hi = R[mid].hi;
            return true;
        }
        if (c < 0)
            hi_i = mid;
        else
            lo_i = mid + 1;
    }
    return false;
}

static void format_range(const char *f, double *lo, double *hi)
{
    if (!f) return;
    double flo = -9007199254740991.0, fhi = 9007199254740991.0;
    if (!strcmp(f, "int32")) {
        flo = -2147483648.0;
        fhi = 2147483647.0;
    } else if (!strcmp(f, "uint32")) {
        flo = 0;
        fhi = 4294967295.0;
    } else if (!strcmp(f, "int16")) {
        flo = -32768;
        fhi = 32767;
    } else if (!strcmp(f, "uint16")) {
        flo = 0;
        fhi = 65535;
    } else if (!strcmp(f, "int8")) {
        flo = -128;
        fhi = 127;
    } else if (!strcmp(f, "uint8")) {
        flo = 0;
        fhi = 255;
    } else if (!strcmp(f, "uint64")) {
        flo = 0;
    } else if (!strcmp(f, "float")) {
        flo = -3.0e38;
        fhi = 3.0e38;
    }
    if (*lo < flo) *lo = flo;
    if (*hi > fhi) *hi = fhi;
}

/* Does the literal satisfy both bounds exactly? */
static bool within(const struct ct_node *v, const struct numcons *nc)
{
    if (nc->lo.n) {
        int c = ct_num_cmp(v, nc->lo.n);
        if (c < 0 || (c == 0 && nc->lo.excl)) return false;
    }
    if (nc->hi.n) {
        int c = ct_num_cmp(v, nc->hi.n);
        if (c > 0 || (c == 0 && nc->hi.excl)) return false;
    }
    return true;
}

/* Bounds beyond what k x step can reach (minimum: 1e20) or very narrow ranges: an inclusive
 * bound is itself a candidate, taken when it passes every keyword. */
static struct ct_node *edge_value(struct gen *g, const struct gen_conj *c, const struct numcons *nc,
                                  bool integer)
{
    const struct bound *b[2] = {&nc->lo, &nc->hi};
    for (int i = 0; i < 2; i++) {
        if (!b[i]->n || b[i]->excl) continue;
        struct ct_node *n = ct__gen_copy(g, b[i]->n);
        if (integer && !ct_num_is_integer(n)) continue;
        g->ck_quiet++;
        bool ok = ct__gen_check_conj(g, n, c);
        g->ck_quiet--;
        if (ok) return n;
    }
    return NULL;
}

#define NUM_CLAMP 1e15 /* generated magnitudes stay well inside exact doubles */

struct ct_node *ct__gen_number(struct gen *g, const struct gen_conj *c, bool integer,
                               const char *hint)
{
    struct numcons nc;
    num_constraints(g, c, integer, &nc);
    if (nc.step_overflow) {
        ct__gen_fail(g, nc.at, "the multipleOf values cannot be combined exactly");
        return NULL;
    }
    /* The hard range, as doubles (the literals decide at the end). */
    double L = nc.lo.n ? nc.lo.v : -INFINITY, U = nc.hi.n ? nc.hi.v : INFINITY;
    format_range(nc.format, &L, &U);
    if (L < -NUM_CLAMP) L = -NUM_CLAMP;
    if (U > NUM_CLAMP) U = NUM_CLAMP;
    if (L > U) {
        struct ct_node *edge = edge_value(g, c, &nc, integer);
        if (edge) return edge;
        ct__gen_fail(g, nc.at, "no number lies between the minimum and the maximum");
        return NULL;
    }
    /* A non-integer without multipleOf: two decimals, finer when the range is narrow. */
    struct dnum step = nc.step;
    if (!integer && !nc.has_step) {
        double w = U - L;
        while (step.e > -12 && w < 100 * pow(10, step.e))
            step.e--;
    }
    double sv = (double)step.m * pow(10, step.e);
    /* The preferred range: the hint's, else a small friendly one near the bounds. */
    double plo, phi;
    if (!hint_range(hint, integer, &plo, &phi)) {
        plo = integer ? 1 : 0;
        phi = integer ? 100 : 100;
    }
    if (plo < L || phi > U) {
        double a = plo > L ? plo : L, b = phi < U ? phi : U;
        if (a <= b && b - a >= sv) {
            plo = a;
            phi = b;
        } else if (isfinite(L) && isfinite(U)) {
            plo = L;
            phi = U - L > 1000 ? L + 1000 : U;
        } else if (isfinite(L)) {
            plo = L;
            phi = L + (fabs(L) > 100 ? fabs(L) : 100);
        } else {
            phi = U;
            plo = U - (fabs(U) > 100 ? fabs(U) : 100);
        }
        if (phi > U) phi = U;
        if (plo < L) plo = L;
    }
    char lit[64];
    for (int pass = 0; pass < 2; pass++) {
        double a = pass ? L : plo, b = pass ? U : phi;
        double klo = ceil(a / sv), khi = floor(b / sv);
        if (klo < -9.0e15 || khi > 9.0e15) {
            klo = klo < -9.0e15 ? -9.0e15 : klo;
            khi = khi > 9.0e15 ? 9.0e15 : khi;
        }
        if (klo > khi) continue;
        int64_t k0 = (int64_t)klo, k1 = (int64_t)khi;
        uint64_t span = (uint64_t)(k1 - k0);
        for (int t = 0; t < 8; t++) {
            int64_t k;
            if (t < 5)
                k = k0 + (int64_t)gen_below(g, span + 1 < span ? span : span + 1);
            else /* ends of the range, nudged inwards for exclusive bounds */
                k = t == 5 ? k0 : t == 6 ? k0 + 1 : k1 - 1;
            if (k < k0 || k > k1) continue;
            if (!dnum_text(k, step, lit, sizeof lit)) continue;
            struct ct_node *n = ct__gen_num_lit(g, lit, strlen(lit));
            if (within(n, &nc) && (!integer || ct_num_is_integer(n))) return n;
        }
    }
    struct ct_node *edge = edge_value(g, c, &nc, integer);
    if (edge) return edge;
    ct__gen_fail(g, nc.at, "no %s satisfies these bounds%s", integer ? "integer" : "number",
                 nc.has_step ? " and multipleOf" : "");
    return NULL;
}
