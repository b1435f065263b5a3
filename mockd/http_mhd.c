/* http_mhd.c - the libmicrohttpd adapter: the only file that includes microhttpd.h.
 *
 * This first version serves the loaded document at /openapi.json and /openapi.yaml and answers
 * every other path with a problem+json 404. Request bodies are not read yet. */
#include "mockd.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

struct mockd_server {
    struct MHD_Daemon *daemon;
    const struct mockd_spec *spec;
    struct MHD_Response *json, *yaml, *not_found;
};

static struct MHD_Response *static_response(const char *body, size_t len, const char *type)
{
    /* Persistent: the buffer lives as long as the spec, so MHD need not copy it. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    struct mockd_server *srv = cls;
    if (*req_cls == NULL) {
        /* First call: headers only. Mark the request and wait for the body, if any. */
        *req_cls = srv;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* bodies are ignored in this version */
        return MHD_YES;
    }
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (get && !strcmp(url, "/openapi.json"))
        return MHD_queue_response(conn, MHD_HTTP_OK, srv->json);
    if (get && (!strcmp(url, "/openapi.yaml") || !strcmp(url, "/openapi.yml")))
        return MHD_queue_response(conn, MHD_HTTP_OK, srv->yaml);
    return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_found);
}

struct mockd_server *mockd_http_start(const struct mockd_config *cfg, const struct mockd_spec *spec,
                                      unsigned *port_out)
{
    struct mockd_server *srv = ct_xcalloc(1, sizeof(*srv));
    srv->spec = spec;
    srv->json = static_response(spec->json, spec->json_len, "application/json");
    srv->yaml = static_response(spec->yaml, spec->yaml_len, "application/yaml");
    static const char nf[] = "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                             "\"detail\":\"no operation of the spec matches this path\"}";
    srv->not_found = static_response(nf, sizeof(nf) - 1, "application/problem+json");

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else if (!strcmp(cfg->host, "localhost")) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_port = htons((uint16_t)cfg->port);
    } else {
        fprintf(stderr, "mockd: --host '%s': expected an IPv4 or IPv6 address\n", cfg->host);
        goto fail;
    }
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 2),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!srv->daemon) {
        fprintf(stderr, "mockd: cannot listen on %s:%u (port in use or not permitted)\n",
                cfg->host, cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : cfg->port;
    return srv;
fail:
    MHD_destroy_response(srv->json);
    MHD_destroy_response(srv->yaml);
    MHD_destroy_response(srv->not_found);
    ct_free(srv);
    return NULL;
}

void mockd_http_stop(struct mockd_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    MHD_destroy_response(srv->json);
    MHD_destroy_response(srv->yaml);
    MHD_destroy_response(srv->not_found);
    ct_free(srv);
}
